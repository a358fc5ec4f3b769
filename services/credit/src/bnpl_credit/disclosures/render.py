"""Rendering: one Jinja2 template per market and document, to HTML and to PDF.

The HTML fragment is what the checkout page shows and the shopper accepts; the full HTML page
wraps it for a browser; the PDF is laid out from the same fragment (:mod:`.pdf`). Autoescape is
on for every template, so a merchant's name or a reason can never inject markup.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from bnpl_credit.disclosures.formatting import Formatter
from bnpl_credit.disclosures.inputs import DeclineDisclosure, DocumentKind, OfferDisclosure
from bnpl_credit.disclosures.pdf import Fonts, PdfMeta, build_pdf, parse
from bnpl_credit.markets.catalog import Market

TEMPLATES = Path(__file__).parent / "templates"

TITLES = {
    "secci": "Standard European Consumer Credit Information",
    "uk-pcci": "Pre-contract credit information",
    "tila-box": "Truth in Lending disclosures",
    "eu-decline": "Your credit application: our decision",
    "uk-decline": "Your credit application: our decision",
    "ecoa-adverse-action": "Notice of action taken on your credit application",
}


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    """A document in both forms, with the content hash of each."""

    kind: DocumentKind
    template: str  # the market's document name, e.g. "secci"
    market_version: str  # the terms it was rendered under
    reference: str  # the application it belongs to
    title: str
    fragment: str  # the HTML the checkout page embeds and the shopper accepts
    html: str  # the fragment as a standalone page
    pdf: bytes

    @property
    def html_sha256(self) -> str:
        return hashlib.sha256(self.html.encode()).hexdigest()

    @property
    def pdf_sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def _fail(message: str) -> None:
    raise ValueError(message)


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,  # a misspelt figure fails the render, never prints blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals["fail"] = _fail  # a template refuses what it has no wording for
    return environment


class DocumentRenderer:
    """Renders the pre-contract information and the decline notice of any market."""

    def __init__(self, fonts: Fonts) -> None:
        for face, path in (("regular", fonts.regular), ("bold", fonts.bold)):
            if not path.is_file():
                raise FileNotFoundError(
                    f"the {face} document font {path} is missing: install fonts-dejavu-core "
                    "or set DOCUMENT_FONT / DOCUMENT_BOLD_FONT"
                )
        self._fonts = fonts
        self._env = _environment()
        # fpdf2 subsets the font with fontTools, which logs some thirty INFO lines per document
        logging.getLogger("fontTools").setLevel(logging.WARNING)

    def pre_contract(self, offer: OfferDisclosure) -> RenderedDocument:
        """The pre-contract information the market requires for ``offer``."""
        market = offer.market
        return self._render(
            DocumentKind.PRE_CONTRACT,
            market,
            market.disclosures.pre_contract,
            reference=offer.reference,
            created=offer.issued_at,
            context={"offer": offer, "terms": offer.product_terms},
        )

    def decline_notice(self, decline: DeclineDisclosure) -> RenderedDocument:
        """The notice of a declined application, as the market requires it."""
        market = decline.market
        return self._render(
            DocumentKind.DECLINE_NOTICE,
            market,
            market.disclosures.decline_notice,
            reference=decline.application_id,
            created=decline.decided_at,
            context={"decline": decline, "terms": market.product(decline.product)},
        )

    def _render(
        self,
        kind: DocumentKind,
        market: Market,
        template: str,
        *,
        reference: str,
        created: datetime,
        context: dict[str, Any],
    ) -> RenderedDocument:
        title = TITLES[template]
        fmt = Formatter.for_market(market)
        fragment = self._env.get_template(f"{template}.html.j2").render(title=title, market=market, fmt=fmt, **context)
        html = self._env.get_template("_page.html.j2").render(title=title, fragment=Markup(fragment))  # noqa: S704 - our own autoescaped output
        meta = PdfMeta(
            title=title,
            author=market.legal_entity.creditor_name,
            subject=f"{title} ({reference})",
            created=created,
            footer=f"{title} · {reference}",
            page_format="letter" if market.market == "US" else "A4",
        )
        pdf = build_pdf(parse(fragment), meta, self._fonts)
        return RenderedDocument(
            kind=kind,
            template=template,
            market_version=market.version,
            reference=reference,
            title=title,
            fragment=fragment,
            html=html,
            pdf=pdf,
        )
