"""``python -m bnpl_psp_sandbox``: serve the sandbox PSP on PSP_SANDBOX_HOST:PSP_SANDBOX_PORT."""

from __future__ import annotations

from bnpl_common.app import serve

from bnpl_psp_sandbox.settings import Settings


def main() -> None:
    settings = Settings()
    serve("bnpl_psp_sandbox.main:create_app", host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
