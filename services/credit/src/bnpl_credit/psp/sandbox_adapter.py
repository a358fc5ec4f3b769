"""The sandbox adapter: the local sandbox PSP speaks the subset of Stripe's API this port uses,
so it is driven by the same SDK calls as Stripe; only where the shopper types the card differs
(the sandbox's own page instead of Stripe's Payment Element)."""

from __future__ import annotations

from urllib.parse import quote

from bnpl_credit.psp.stripe_adapter import StripePsp


class SandboxPsp(StripePsp):
    """:class:`StripePsp` against the sandbox at ``api_base``; ``page_base`` is where a browser
    reaches it (the same URL locally; another host name under docker compose)."""

    def __init__(
        self,
        *,
        api_base: str,
        api_key: str,
        webhook_secret: str,
        page_base: str | None = None,
        with_page: bool = True,
        timeout_seconds: float = 5.0,
        max_network_retries: int = 2,
    ) -> None:
        super().__init__(
            api_key=api_key,
            webhook_secret=webhook_secret,
            api_base=api_base,
            timeout_seconds=timeout_seconds,
            max_network_retries=max_network_retries,
        )
        self._page_base = (page_base or api_base).rstrip("/")
        self._with_page = with_page  # False: like Stripe, no page; the checkout page mounts the Element

    def _setup_page_url(self, setup_id: str, client_secret: str, return_url: str) -> str | None:
        if not self._with_page:
            return None
        # The client secret rides in the fragment: browsers never send it, so no access log sees it.
        return f"{self._page_base}/setup/{quote(setup_id)}?return_url={quote(return_url, safe='')}#{client_secret}"
