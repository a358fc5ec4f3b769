"""``python -m bnpl_gateway``: serve the gateway with uvicorn on GATEWAY_HOST:GATEWAY_PORT."""

from __future__ import annotations

from bnpl_common.app import serve

from bnpl_gateway.settings import Settings


def main() -> None:
    settings = Settings()
    serve("bnpl_gateway.main:create_app", host=settings.gateway_host, port=settings.gateway_port)


if __name__ == "__main__":
    main()
