"""``python -m bnpl_gateway``: serve the gateway with uvicorn (GATEWAY_HOST, GATEWAY_PORT)."""

from __future__ import annotations

import uvicorn

from bnpl_gateway.main import create_app
from bnpl_gateway.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
