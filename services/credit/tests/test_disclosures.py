"""Disclosures as documents: every market's pre-contract information and decline notice render to
HTML and to a PDF that opens, shows the offer's own figures, escapes what shoppers and merchants
type, and hashes the same every time."""

from __future__ import annotations

import asyncio
import calendar
import html
import io
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from bnpl_common.clock import FixedClock
from bnpl_credit.disclosures import (
    DeclineDisclosure,
    DocumentConflict,
    DocumentKind,
    DocumentRenderer,
    Fonts,
    LocalDocumentStore,
    OfferDisclosure,
    Payment,
    Reason,
    RenderedDocument,
    disclose_offer,
    keep,
)
from bnpl_credit.disclosures.pdf import parse
from bnpl_credit.disclosures.settings import DocumentSettings
from bnpl_credit.markets.catalog import Market, load_catalog
from pydantic import ValidationError
from pypdf import PdfReader

CURRENCIES = ["EUR", "GBP", "USD"]
ISSUED = datetime(2026, 11, 29, 15, 4, tzinfo=UTC)
START = date(2026, 11, 29)


def market(currency: str) -> Market:
    found = load_catalog().for_currency(currency)
    assert found is not None
    return found


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def monthly_schedule(start: date) -> list[Payment]:
    """The market issue's plan, written out: 1 000.00 over 12 months at 24.99 % is eleven
    payments of 95.04 and a last of 95.05 (140.49 of interest, as tests/test_interest.py states).
    Typed in rather than computed, so the documents are checked against numbers they did not make."""
    return [Payment(add_months(start, k), 95_04 if k < 12 else 95_05) for k in range(1, 13)]


def monthly_offer(currency: str, **changes: object) -> OfferDisclosure:
    offer = disclose_offer(
        market(currency),
        "MONTHLY_12",
        reference="app_01JDX3Q9",
        merchant_name="Outdoor Gear Ltd",
        shopper_name="Zoë Łukasz-Ωμέγα",
        issued_at=ISSUED,
        valid_until=ISSUED + timedelta(minutes=30),
        start=START,
        amount_financed=1_000_00,
        borrowing_rate_basis_points=2499,
        installments=monthly_schedule(START),
    )
    return replace(offer, **changes) if changes else offer  # type: ignore[arg-type] - test override keywords are typed loosely


def pay_in_4_offer(currency: str) -> OfferDisclosure:
    return disclose_offer(
        market(currency),
        "PAY_IN_4",
        reference="app_pay_in_4",
        merchant_name="Outdoor Gear Ltd",
        shopper_name=None,
        issued_at=ISSUED,
        valid_until=ISSUED + timedelta(minutes=30),
        start=START,
        amount_financed=100_00,
        borrowing_rate_basis_points=0,
        installments=[Payment(START + timedelta(days=14 * k), 25_00) for k in range(4)],
    )


def decline(currency: str, **changes: object) -> DeclineDisclosure:
    notice = DeclineDisclosure(
        market=market(currency),
        application_id="app_declined_7",
        decided_at=ISSUED,
        reasons=(
            Reason("AFFORDABILITY", "The monthly payment is more than your income after expenses allows."),
            Reason("LATE_PAYMENTS", "Payments on your earlier plans were late."),
        ),
        merchant_name="Outdoor Gear Ltd",
        product="MONTHLY_12",
        amount=1_000_00,
        shopper_name="Zoë Łukasz-Ωμέγα",
    )
    return replace(notice, **changes) if changes else notice  # type: ignore[arg-type] - test override keywords are typed loosely


@pytest.fixture(scope="module")
def renderer() -> DocumentRenderer:
    return DocumentRenderer(DocumentSettings(bnpl_env="test").fonts)


def pdf_text(document: RenderedDocument) -> str:
    reader = PdfReader(io.BytesIO(document.pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def html_text(document: RenderedDocument) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", document.fragment)).split())


# -- every template, every market ------------------------------------------------------------


@pytest.mark.parametrize("currency", CURRENCIES)
def test_pre_contract_shows_the_offers_figures_in_html_and_pdf(renderer: DocumentRenderer, currency: str) -> None:
    offer = monthly_offer(currency)
    document = renderer.pre_contract(offer)
    assert document.kind is DocumentKind.PRE_CONTRACT
    assert document.template == offer.market.disclosures.pre_contract
    assert document.market_version == offer.market.version
    sign = {"EUR": "€", "GBP": "£", "USD": "$"}[currency]
    expected = [
        f"{sign}1,000.00",  # amount financed
        f"{sign}1,140.49",  # total payable
        f"{sign}140.49",  # finance charge
        f"{sign}95.04",  # the installments
        f"{sign}95.05",  # the last one, closing the balance
        "24.99%",  # the borrowing rate
        "Zoë Łukasz-Ωμέγα",
        "app_01JDX3Q9",
        offer.market.legal_entity.creditor_name,
    ]
    us = currency == "USD"
    for payment in offer.installments:
        expected.append(
            f"{calendar.month_name[payment.due.month]} {payment.due.day}, {payment.due.year}"
            if us
            else f"{payment.due.day} {calendar.month_name[payment.due.month]} {payment.due.year}"
        )
    # the annual rate as the market requires it, with the market's name for it
    if currency == "EUR":
        expected += ["APRC", "28.1%", "14 calendar days"]
    elif currency == "GBP":
        expected += ["Representative APR", "28.1% APR", "14 calendar days"]
    else:
        expected += ["ANNUAL PERCENTAGE RATE", "FINANCE CHARGE", "Amount Financed", "Total of Payments", "24.99%"]
    text, shown = pdf_text(document), html_text(document)
    for figure in expected:
        assert figure in shown, figure
        assert figure in text, figure
    assert document.pdf.startswith(b"%PDF-")


@pytest.mark.parametrize("currency", CURRENCIES)
def test_pay_in_4_discloses_a_zero_rate(renderer: DocumentRenderer, currency: str) -> None:
    document = renderer.pre_contract(pay_in_4_offer(currency))
    text = pdf_text(document)
    if currency == "USD":
        # Regulation Z: the payment at checkout is a down payment, outside the amount financed
        assert "0.00%" in text and "$75.00" in text and "$25.00" in text
        assert "down payment" in text
    else:
        sign = "€" if currency == "EUR" else "£"
        assert "0.0%" in text and f"{sign}100.00" in text and f"{sign}25.00" in text
        assert "Pay in 4" in text


def test_the_uk_document_gives_the_adequate_explanations(renderer: DocumentRenderer) -> None:
    text = pdf_text(renderer.pre_contract(monthly_offer("GBP")))
    for heading in ("What this credit is for", "What you will pay", "If you miss a payment", "If you change your mind"):
        assert heading in text
    assert "Financial Ombudsman Service" in text
    assert "£5.00" in text  # the late fee


def test_the_eu_document_has_the_secci_sections(renderer: DocumentRenderer) -> None:
    text = pdf_text(renderer.pre_contract(monthly_offer("EUR")))
    for section in (
        "1. Identity and contact details of the creditor",
        "2. Description of the main features of the credit product",
        "3. Costs of the credit",
        "4. Other important legal aspects",
        "Right of withdrawal",
        "Early repayment",
        "Consultation of a database",
        "Right to a human review",
        "Representative APRC example",
        "national out-of-court dispute resolution body",
    ):
        assert section in text, section


@pytest.mark.parametrize("currency", CURRENCIES)
def test_decline_notice_names_the_creditor_and_the_reasons(renderer: DocumentRenderer, currency: str) -> None:
    notice = decline(currency)
    document = renderer.decline_notice(notice)
    assert document.kind is DocumentKind.DECLINE_NOTICE
    assert document.template == notice.market.disclosures.decline_notice
    text = pdf_text(document)
    entity = notice.market.legal_entity
    for needle in (entity.creditor_name, entity.address, "app_declined_7", *(r.sentence for r in notice.reasons)):
        assert needle in text, needle
    assert "AFFORDABILITY" in text and "LATE_PAYMENTS" in text
    review = notice.market.disclosures.human_review
    if currency == "USD":
        agency = notice.market.disclosures.ecoa_agency
        assert agency is not None
        assert "The Federal Equal Credit Opportunity Act prohibits creditors from discriminating" in text
        assert "The Federal agency that administers compliance with this law concerning this creditor is" in text
        assert agency.name in text and agency.address in text
        assert "We are unable to approve your application for credit." in text
        assert "human review" not in text and review is None
    else:
        assert review is not None and review in text
        assert "review" in text and entity.complaints in text
        assert "Equal Credit Opportunity" not in text


@pytest.mark.parametrize("currency", CURRENCIES)
def test_a_consulted_database_is_named(renderer: DocumentRenderer, currency: str) -> None:
    bureau = "Example Bureau, 1 Data Street, Springfield"
    text = pdf_text(renderer.decline_notice(decline(currency, database_consulted=bureau)))
    assert bureau in text
    if currency == "USD":
        assert "Fair Credit Reporting Act" in text  # the FCRA 615(a) disclosure comes with it


@pytest.mark.parametrize("currency", CURRENCIES)
def test_the_html_page_wraps_the_accepted_fragment(renderer: DocumentRenderer, currency: str) -> None:
    document = renderer.pre_contract(monthly_offer(currency))
    assert document.html.startswith("<!doctype html>")
    assert '<meta charset="utf-8">' in document.html
    assert f"<title>{document.title}</title>" in document.html
    assert document.fragment.strip() in document.html  # byte for byte what the shopper accepted
    assert document.fragment.lstrip().startswith("<article")


# -- escaping and characters ----------------------------------------------------------------


def test_markup_in_a_merchant_name_or_a_reason_is_shown_as_text(renderer: DocumentRenderer) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    offer = monthly_offer("EUR", merchant_name=f"Shop {attack}")
    notice = decline("USD", merchant_name=f"Shop {attack}", reasons=(Reason("X<b>", f"Reason {attack}"),))
    for document in (renderer.pre_contract(offer), renderer.decline_notice(notice)):
        assert "<script" not in document.html and "<img" not in document.html
        assert "&lt;script&gt;" in document.html
        # the PDF prints the characters the shopper typed, as text
        assert '<script>alert("x")</script>' in pdf_text(document)


def test_a_name_outside_latin_1_prints_in_the_pdf(renderer: DocumentRenderer) -> None:
    offer = monthly_offer("GBP", shopper_name="Дмитрий Łukasz 王", merchant_name="Café Ωμέγα")
    text = pdf_text(renderer.pre_contract(offer))
    assert "Дмитрий Łukasz" in text and "Café Ωμέγα" in text and "£1,140.49" in text


def test_the_pdf_vocabulary_refuses_unknown_markup() -> None:
    with pytest.raises(ValueError, match="img"):
        parse("<p>fine</p><img src=x>")
    with pytest.raises(ValueError, match="outside"):
        parse("stray text")
    with pytest.raises(ValueError, match="closes"):
        parse("<p><strong>bold</p></strong>")


# -- the same input, the same bytes -----------------------------------------------------------


def test_the_same_offer_renders_to_the_same_bytes_and_hash(renderer: DocumentRenderer) -> None:
    first, second = renderer.pre_contract(monthly_offer("EUR")), renderer.pre_contract(monthly_offer("EUR"))
    assert first.pdf == second.pdf and first.pdf_sha256 == second.pdf_sha256
    assert first.html_sha256 == second.html_sha256
    assert len(first.pdf_sha256) == 64
    later = renderer.pre_contract(
        monthly_offer("EUR", issued_at=ISSUED + timedelta(seconds=1), valid_until=ISSUED + timedelta(minutes=31))
    )
    assert later.pdf_sha256 != first.pdf_sha256


def test_the_pdf_is_dated_by_its_input(renderer: DocumentRenderer) -> None:
    reader = PdfReader(io.BytesIO(renderer.decline_notice(decline("USD")).pdf))
    assert reader.metadata is not None and reader.metadata.creation_date is not None
    assert reader.metadata.creation_date.astimezone(UTC) == ISSUED
    assert reader.metadata.title == "Notice of action taken on your credit application"


def test_the_hash_is_the_same_in_another_process(renderer: DocumentRenderer) -> None:
    """No per-process randomness (hash seeds, set order, clocks) reaches the bytes."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import test_disclosures as t; from bnpl_credit.disclosures.settings import DocumentSettings; "
        "from bnpl_credit.disclosures import DocumentRenderer; "
        "r = DocumentRenderer(DocumentSettings(bnpl_env='test').fonts); "
        "print(r.pre_contract(t.monthly_offer('GBP')).pdf_sha256, r.decline_notice(t.decline('USD')).pdf_sha256)"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        timeout=120,
    ).stdout.split()
    assert out == [
        renderer.pre_contract(monthly_offer("GBP")).pdf_sha256,
        renderer.decline_notice(decline("USD")).pdf_sha256,
    ]


# -- keeping what was accepted ---------------------------------------------------------------


def test_the_accepted_document_is_kept_with_its_hash_and_never_replaced(
    renderer: DocumentRenderer, tmp_path: Path
) -> None:
    store = LocalDocumentStore(tmp_path, link_key=b"test-document-link-key-0123456789", clock=FixedClock(ISSUED))
    accepted = renderer.pre_contract(monthly_offer("EUR"))
    kept = asyncio.run(keep(store, accepted, subject="plans/p_123"))
    assert kept.kind is DocumentKind.PRE_CONTRACT
    assert kept.pdf.key == "plans/p_123/pre-contract.pdf" and kept.pdf.sha256 == accepted.pdf_sha256
    assert kept.html.key == "plans/p_123/pre-contract.html" and kept.html.sha256 == accepted.html_sha256
    # a retried confirmation keeps the same document: the same record
    assert asyncio.run(keep(store, renderer.pre_contract(monthly_offer("EUR")), subject="plans/p_123")) == kept
    # another rendering (other terms, another time) can never replace what was accepted
    other = renderer.pre_contract(monthly_offer("EUR", merchant_name="Another Shop"))
    with pytest.raises(DocumentConflict):
        asyncio.run(keep(store, other, subject="plans/p_123"))
    assert asyncio.run(store.get("plans/p_123/pre-contract.pdf"))[1] == accepted.pdf


# -- the market's rules in the words --------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "promise"),
    [
        ("EUR", "reduced by the interest and costs for the remaining duration"),
        ("GBP", "rebate of the interest"),
        ("USD", "you will not have to pay a penalty"),
    ],
)
def test_early_repayment_follows_the_markets_rule(renderer: DocumentRenderer, currency: str, promise: str) -> None:
    assert promise in pdf_text(renderer.pre_contract(monthly_offer(currency)))


def test_a_rule_without_wording_fails_the_render(renderer: DocumentRenderer) -> None:
    offer = monthly_offer("EUR")
    terms = offer.market.model_copy(update={"early_settlement": "SOMETHING_NEW"})
    with pytest.raises(ValueError, match="early-settlement rule SOMETHING_NEW"):
        renderer.pre_contract(replace(offer, market=terms))


def test_a_market_must_say_how_to_ask_for_a_review_and_name_the_ecoa_agency() -> None:
    eu = market("EUR").model_dump(mode="json")
    eu["disclosures"].pop("human_review")
    with pytest.raises(ValidationError, match="human_review"):
        Market.model_validate(eu)
    us = market("USD").model_dump(mode="json")
    us["disclosures"].pop("ecoa_agency")
    with pytest.raises(ValidationError, match="ecoa_agency"):
        Market.model_validate(us)


# -- inputs ---------------------------------------------------------------------------------


def test_an_offer_refuses_figures_that_disagree() -> None:
    good = monthly_offer("EUR")
    with pytest.raises(ValueError, match="order"):
        replace(good, installments=tuple(reversed(good.installments)))
    with pytest.raises(ValueError, match="repay less"):
        replace(good, amount_financed=2_000_00)
    with pytest.raises(ValueError, match="US market's APR"):
        replace(monthly_offer("USD"), rate=good.rate)
    with pytest.raises(ValueError, match="timezone"):
        replace(good, issued_at=datetime(2026, 11, 29, 15, 4))
    with pytest.raises(KeyError):
        replace(good, product="MONTHLY_60")
    assert good.finance_charge == 140_49 and good.total_payable == 1_140_49


def test_a_decline_states_one_to_four_reasons() -> None:
    reason = Reason("R", "A reason.")
    with pytest.raises(ValueError, match="between 1 and 4"):
        decline("EUR", reasons=())
    with pytest.raises(ValueError, match="between 1 and 4"):
        decline("EUR", reasons=(reason,) * 5)
    with pytest.raises(ValueError, match="blank"):
        Reason("R", "  ")


def test_a_missing_font_is_named_with_its_setting(tmp_path: Path) -> None:
    fonts = Fonts(regular=tmp_path / "none.ttf", bold=tmp_path / "none-bold.ttf")
    with pytest.raises(FileNotFoundError, match="DOCUMENT_FONT"):
        DocumentRenderer(fonts)


@pytest.mark.parametrize("currency", CURRENCIES)
def test_a_checkout_plans_document_says_its_dates_count_from_shipment(
    renderer: DocumentRenderer, currency: str
) -> None:
    # a checkout session's plan starts at the merchant's first capture (Plan.begin)
    plain = pdf_text(renderer.pre_contract(monthly_offer(currency)))
    shipped = renderer.pre_contract(monthly_offer(currency, starts_at_shipment=True))
    text = pdf_text(shipped)
    assert "ships your order" not in plain
    assert "Your plan starts on the day Outdoor Gear Ltd ships your order." in text
    day = f"{START:%B} {START.day}, {START.year}" if currency == "USD" else f"{START.day} {START:%B} {START.year}"
    assert f"These are the dates of an order shipped on {day}" in text
    assert "ships your order" in shipped.html
