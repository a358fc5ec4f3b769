"""``python -m bnpl_credit``: serve the app with uvicorn on CREDIT_HOST:CREDIT_PORT."""

from __future__ import annotations

from bnpl_common.app import serve

from bnpl_credit.settings import Settings


def main() -> None:
    settings = Settings()
    serve("bnpl_credit.main:create_app", host=settings.credit_host, port=settings.credit_port)


if __name__ == "__main__":
    main()
