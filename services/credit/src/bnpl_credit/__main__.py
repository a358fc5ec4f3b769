"""Serve the credit service with uvicorn: ``python -m bnpl_credit``."""

from __future__ import annotations

import uvicorn

from bnpl_credit.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(
        "bnpl_credit.main:create_app",
        factory=True,
        host=settings.credit_host,
        port=settings.credit_port,
        log_config=None,
    )


if __name__ == "__main__":
    main()
