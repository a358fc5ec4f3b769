"""Stripe's documented test card numbers and test IBANs, and what each one does.

Only these are accepted, as in Stripe's test mode: any other card number is refused, so a real
card number has no reason to be typed here, and none is ever stored (a saved method keeps the
test profile's name, the brand, the last four digits and the expiry).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TestCard:
    profile: str  # stored on the payment method instead of the number
    brand: str
    funding: str
    setup_authentication: bool = False  # 3-D Secure when the card is saved
    charge_authentication: bool = False  # every payment needs 3-D Secure, off-session ones fail
    decline_code: str | None = None  # every payment is declined with this code
    message: str = "Your card was declined."


TEST_CARDS: dict[str, TestCard] = {
    "4242424242424242": TestCard("visa", "visa", "credit"),
    "4000056655665556": TestCard("visa_debit", "visa", "debit"),
    "5555555555554444": TestCard("mastercard", "mastercard", "credit"),
    "378282246310005": TestCard("amex", "amex", "credit"),
    "4000000000000002": TestCard("decline_generic", "visa", "credit", decline_code="generic_decline"),
    "4000000000009995": TestCard(
        "decline_insufficient_funds",
        "visa",
        "credit",
        decline_code="insufficient_funds",
        message="Your card has insufficient funds.",
    ),
    # saved fine, every charge declined (Stripe's card for failing charges of a saved card)
    "4000000000000341": TestCard("decline_after_attach", "visa", "credit", decline_code="generic_decline"),
    # 3-D Secure when saved; then off-session payments go through
    "4000002500003155": TestCard("authenticate_setup", "visa", "credit", setup_authentication=True),
    # 3-D Secure on every transaction: off-session payments fail with authentication_required
    "4000000000003220": TestCard(
        "authenticate_always", "visa", "credit", setup_authentication=True, charge_authentication=True
    ),
    "4000002760003184": TestCard(
        "authenticate_always_3184", "visa", "credit", setup_authentication=True, charge_authentication=True
    ),
}

CARDS_BY_PROFILE = {card.profile: card for card in TEST_CARDS.values()}


@dataclass(frozen=True, slots=True)
class TestIban:
    profile: str
    succeeds: bool  # the debit settles (``succeeded``) or fails after ``processing``


TEST_IBANS: dict[str, TestIban] = {
    "DE89370400440532013000": TestIban("sepa_succeeds", succeeds=True),
    "AT611904300234573201": TestIban("sepa_succeeds_at", succeeds=True),
    "DE62370400440532013001": TestIban("sepa_fails", succeeds=False),
}

IBANS_BY_PROFILE = {iban.profile: iban for iban in TEST_IBANS.values()}


def luhn_valid(number: str) -> bool:
    """The card number check digit (ISO/IEC 7812)."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, char in enumerate(reversed(number)):
        digit = int(char)
        if i % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check."""
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit() or not iban.isalnum():
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1
