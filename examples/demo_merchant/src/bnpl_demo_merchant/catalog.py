"""What the two demo shops sell. Prices are integer minor units of the shop's currency."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    description: str
    unit_price: int
    default_quantity: int = 0


@dataclass(frozen=True, slots=True)
class Shop:
    """One merchant served by this server, under its own path prefix ("" or "/books")."""

    merchant_id: str
    name: str
    prefix: str
    currency: str
    symbol: str
    products: tuple[Product, ...]

    def product(self, sku: str) -> Product | None:
        return next((p for p in self.products if p.sku == sku), None)


DEMO_SHOP = Shop(
    merchant_id="demo-shop",
    name="Demo Shop",
    prefix="",
    currency="EUR",
    symbol="€",
    products=(
        Product("espresso-machine", "Espresso machine", "15-bar pump, steam wand, 1.5 l tank.", 24_900, 1),
        Product("grinder", "Burr grinder", "40 grind settings, conical steel burrs.", 8_900),
        Product("beans", "Espresso beans, 1 kg", "Roasted this week.", 1_850),
    ),
)

DEMO_BOOKS = Shop(
    merchant_id="demo-books",
    name="Demo Books",
    prefix="/books",
    currency="GBP",
    symbol="£",
    products=(
        Product("atlas", "The Great Atlas", "Hardback, 320 maps.", 7_500, 1),
        Product("cookbook", "A Year of Soups", "Hardback, 365 recipes.", 2_999),
        Product("novel", "The Long Return", "Paperback.", 1_099),
    ),
)

SHOPS = (DEMO_SHOP, DEMO_BOOKS)


def money(shop: Shop, amount: int) -> str:
    units, cents = divmod(amount, 100)
    return f"{shop.symbol}{units:,}.{cents:02d}"
