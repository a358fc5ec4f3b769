"""Request and response bodies of payment methods."""

from __future__ import annotations

from pydantic import Field

from bnpl_credit.collections.model import SavedMethod
from bnpl_credit.psp.records import PaymentMethodType, SetupSession
from bnpl_credit.schemas import CamelModel, InputModel


class SetupInput(InputModel):
    return_url: str = Field(min_length=1, max_length=2000)
    method: PaymentMethodType = Field(default=PaymentMethodType.CARD, description="card or sepa_debit")


class Setup(CamelModel):
    setup_id: str
    client_secret: str = Field(description="for the PSP's card field (Stripe's Payment Element)")
    page_url: str | None = Field(description="the sandbox PSP's own page, where the shopper enters the card")

    @classmethod
    def of(cls, session: SetupSession) -> Setup:
        return cls(setup_id=session.setup_id, client_secret=session.client_secret, page_url=session.page_url)


class PaymentMethodOut(CamelModel):
    type: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None

    @classmethod
    def of(cls, method: SavedMethod) -> PaymentMethodOut:
        return cls(
            type=method.type,
            brand=method.brand,
            last4=method.last4,
            exp_month=method.exp_month,
            exp_year=method.exp_year,
        )


class PaymentMethodOnFile(CamelModel):
    payment_method: PaymentMethodOut | None


class PspWebhookAck(CamelModel):
    received: bool = True
    event_id: str
    outcome: str = Field(description="APPLIED, DUPLICATE (applied before: nothing done) or IGNORED")
