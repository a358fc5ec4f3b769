"""``python -m bnpl_demo_merchant``: serve the demo shops on DEMO_MERCHANT_HOST:DEMO_MERCHANT_PORT."""

from __future__ import annotations

import uvicorn

from bnpl_demo_merchant.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run("bnpl_demo_merchant.app:create_app", factory=True, host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
