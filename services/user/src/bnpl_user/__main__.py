"""``python -m bnpl_user``: serve the app with uvicorn on USER_HOST:USER_PORT."""

from __future__ import annotations

from bnpl_common.app import serve

from bnpl_user.settings import Settings


def main() -> None:
    settings = Settings()
    serve("bnpl_user.main:create_app", host=settings.user_host, port=settings.user_port)


if __name__ == "__main__":
    main()
