"""The shop's HTML, rendered on the server (no script at all), every value escaped."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from bnpl_demo_merchant.catalog import Shop, money
from bnpl_demo_merchant.store import Order, ReceivedWebhook


def _page(shop: Shop, title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{escape(title)} · {escape(shop.name)}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/shop.css">
</head>
<body>
  <header class="shop-header">
    <a class="logo" href="{shop.prefix}/">{escape(shop.name)}</a>
    <span class="tag">a demo merchant of the pay-later platform</span>
    <a class="orders-link" href="{shop.prefix}/orders">Orders</a>
  </header>
  <main>
{body}
  </main>
  <footer class="shop-footer">This shop is part of the local demo (<code>make run</code>). No money moves.</footer>
</body>
</html>
"""


def _amount(shop: Shop, value: dict[str, Any] | None) -> str:
    return money(shop, int(value["amount"])) if value else money(shop, 0)


def products(shop: Shop) -> str:
    rows = "\n".join(
        f"""      <li class="product">
        {'<img src="/static/espresso.svg" alt="" width="96" height="96">' if shop.prefix == "" and i == 0 else ""}
        <div>
          <h2>{escape(p.name)}</h2>
          <p>{escape(p.description)}</p>
          <p class="price">{money(shop, p.unit_price)}</p>
        </div>
        <label>Quantity <input type="number" name="qty-{escape(p.sku)}" min="0" max="9"
          value="{p.default_quantity}" inputmode="numeric"></label>
      </li>"""
        for i, p in enumerate(shop.products)
    )
    body = f"""    <h1>{escape(shop.name)}</h1>
    <form method="post" action="{shop.prefix}/checkout" class="cart">
      <ul class="products">
{rows}
      </ul>
      <button type="submit" class="pay-later">Pay later: in 4 or monthly</button>
      <button type="button" disabled>Pay by card (not in this demo)</button>
    </form>"""
    return _page(shop, "Shop", body)


def message(shop: Shop, title: str, text: str, *, kind: str = "info", link: tuple[str, str] | None = None) -> str:
    extra = f'<p><a href="{escape(link[0])}">{escape(link[1])}</a></p>' if link else ""
    body = f"""    <section class="result {escape(kind)}">
      <h1>{escape(title)}</h1>
      <p>{escape(text)}</p>
      {extra}
    </section>"""
    return _page(shop, title, body)


RETURN_TITLES = {
    "AUTHORIZED": "Thank you, your order is placed",
    "DECLINED": "Pay later was not available",
    "REFERRED": "Pay later needs more time",
    "CANCELLED": "Checkout cancelled",
    "EXPIRED": "Checkout expired",
}


def returned(shop: Shop, order: Order, outcome: str, checkout: dict[str, Any]) -> str:
    title = RETURN_TITLES.get(outcome, "Your order")
    body = f"""    <section class="result" data-outcome="{escape(outcome)}">
      <h1>{escape(title)}</h1>
      <p class="verified">Signed return verified: outcome <strong>{escape(outcome)}</strong>.</p>
      <p>Order <span class="ref">{escape(order.reference)}</span>, {_amount(shop, checkout.get("amount"))}.
         The pay-later service says:
         <strong data-testid="checkout-status">{escape(str(checkout.get("status")))}</strong>.</p>
      <p><a href="{shop.prefix}/orders/{escape(order.reference)}">Order details</a></p>
    </section>"""
    return _page(shop, title, body)


def refused(shop: Shop, reason: str) -> str:
    body = f"""    <section class="result refused">
      <h1>This return was refused</h1>
      <p>The link that brought you here is not a valid signed return from the pay-later service:</p>
      <p class="reason" data-testid="refusal">{escape(reason)}</p>
      <p>Nothing about your order was changed. <a href="{shop.prefix}/orders">See your orders</a>.</p>
    </section>"""
    return _page(shop, "Return refused", body)


def _row(label: str, value: str, testid: str) -> str:
    return f'<tr><th scope="row">{escape(label)}</th><td data-testid="{testid}">{value}</td></tr>'


def order_page(
    shop: Shop,
    order: Order,
    checkout: dict[str, Any] | None,
    webhooks: Iterable[ReceivedWebhook],
    *,
    keys: dict[str, str],
    notice: str = "",
    error: str = "",
) -> str:
    items = "".join(
        f"<li>{int(i['quantity'])} × {escape(str(i['name']))} at {_amount(shop, i['unitPrice'])}</li>"
        for i in order.items
    )
    parts = [f"    <h1>Order {escape(order.reference)}</h1>"]
    if notice:
        parts.append(f'    <p class="notice success" role="status">{escape(notice)}</p>')
    if error:
        parts.append(f'    <p class="notice error" role="alert">{escape(error)}</p>')
    parts.append(f'    <ul class="items">{items}</ul><p>Total {money(shop, order.amount)}</p>')
    if checkout is None:
        parts.append("    <p>Not sent to pay later yet.</p>")
    else:
        authorized = int((checkout.get("authorizedAmount") or {}).get("amount", 0))
        captured = int((checkout.get("capturedAmount") or {}).get("amount", 0))
        voided = int((checkout.get("voidedAmount") or {}).get("amount", 0))
        refunded = int((checkout.get("refundedAmount") or {}).get("amount", 0))
        rows = [
            _row("Status", f"<strong>{escape(str(checkout.get('status')))}</strong>", "status"),
            _row("Checkout", f"<code>{escape(str(checkout.get('id')))}</code>", "checkout-id"),
            _row("Plan", f"<code>{escape(str(checkout.get('planId') or '-'))}</code>", "plan-id"),
            _row("Authorized", money(shop, authorized), "authorized"),
            _row("Captured (shipped)", money(shop, captured), "captured"),
            _row("Voided", money(shop, voided), "voided"),
            _row("Refunded", money(shop, refunded), "refunded"),
        ]
        parts.append('    <table class="state"><tbody>' + "".join(rows) + "</tbody></table>")
        to_capture = authorized - captured - voided
        to_refund = captured - refunded
        action = f"{shop.prefix}/orders/{escape(order.reference)}"
        buttons = []
        if to_capture > 0:
            buttons.append(
                f"""<form method="post" action="{action}/ship">
          <input type="hidden" name="key" value="{escape(keys["ship"])}">
          <label>Amount to ship <input name="amount" value="{_major(to_capture)}" inputmode="decimal"></label>
          <button type="submit">Ship (capture)</button></form>
        <form method="post" action="{action}/cancel">
          <input type="hidden" name="key" value="{escape(keys["cancel"])}">
          <button type="submit">Cancel (void)</button></form>"""
            )
        if to_refund > 0:
            buttons.append(
                f"""<form method="post" action="{action}/refund">
          <input type="hidden" name="key" value="{escape(keys["refund"])}">
          <label>Amount to refund <input name="amount" value="{_major(to_refund)}" inputmode="decimal"></label>
          <button type="submit">Refund</button></form>"""
            )
        if buttons:
            parts.append('    <div class="actions">' + "".join(buttons) + "</div>")
    log = (
        "".join(
            f"<tr><td>{escape(w.received_at)}</td><td>{escape(w.type)}</td><td><code>{escape(w.webhook_id)}</code></td></tr>"
            for w in webhooks
        )
        or '<tr><td colspan="3">None yet: they arrive within seconds of each change.</td></tr>'
    )

    parts.append(
        '    <h2>Webhooks received</h2><table class="webhooks"><thead><tr><th>received</th><th>type</th>'
        f"<th>webhook-id</th></tr></thead><tbody>{log}</tbody></table>"
    )
    return _page(shop, f"Order {order.reference}", "\n".join(parts))


def orders_page(shop: Shop, orders: Iterable[Order]) -> str:
    rows = "".join(
        f'<tr><td><a href="{shop.prefix}/orders/{escape(o.reference)}">{escape(o.reference)}</a></td>'
        f"<td>{money(shop, o.amount)}</td><td>{escape(o.created_at)}</td></tr>"
        for o in orders
    )
    body = f"""    <h1>Orders</h1>
    <table class="orders"><thead><tr><th>order</th><th>total</th><th>created</th></tr></thead>
    <tbody>{rows}</tbody></table>"""
    return _page(shop, "Orders", body)


def _major(amount: int) -> str:
    units, cents = divmod(amount, 100)
    return f"{units}.{cents:02d}"
