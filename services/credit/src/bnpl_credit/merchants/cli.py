"""``python -m bnpl_credit.merchants``: manage the merchant registry in the configured credit store
(``CREDIT_STORE``, ``CREDIT_DB_PATH`` / ``CREDIT_TABLE``). Secrets are printed once, when they are
made (create, rotate-keys, rotate-webhook-secret); ``list`` never prints them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bnpl_common.errors import AppError
from bnpl_common.timefmt import format_instant

from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.merchants import registry
from bnpl_credit.merchants.model import Merchant, MerchantKey, MerchantStatus
from bnpl_credit.merchants.ports import MerchantStore
from bnpl_credit.merchants.seed import seed_demo_merchants


def public_view(merchant: Merchant, now: datetime) -> dict[str, Any]:
    """The merchant without secrets."""
    return {
        "id": merchant.id,
        "displayName": merchant.display_name,
        "status": merchant.status.value,
        "market": merchant.market,
        "currency": merchant.currency,
        "origins": list(merchant.origins),
        "webhookUrl": merchant.webhook_url,
        "webhookSecrets": len(merchant.live_webhook_secrets(now)),
        "keys": [
            {
                "accessKeyId": k.access_key_id,
                "createdAt": format_instant(k.created_at),
                "retiredAt": format_instant(k.retired_at) if k.retired_at else None,
                "valid": k.valid_at(now),
            }
            for k in merchant.keys
        ],
        "version": merchant.version,
    }


def _key_view(key: MerchantKey) -> dict[str, str]:
    return {"accessKeyId": key.access_key_id, "secretAccessKey": key.secret_access_key}


def _grace(hours: float | None) -> timedelta | None:
    return None if hours is None or hours < 0 else timedelta(hours=hours)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bnpl_credit.merchants", description=__doc__)
    p.add_argument("--json", action="store_true", help="print JSON")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create", help="register a merchant (prints its first key and webhook secret)")
    c.add_argument("merchant_id")
    c.add_argument("--name", required=True, help="display name shown to shoppers")
    c.add_argument("--market", required=True, choices=["EU", "UK", "US"])
    c.add_argument("--currency", required=True)
    c.add_argument("--origin", action="append", required=True, help="scheme://host[:port] of return URLs (repeat)")
    c.add_argument("--webhook-url")
    sub.add_parser("list", help="every merchant, without secrets")
    for name in ("show", "suspend", "activate", "retire-webhook-secret"):
        sub.add_parser(name).add_argument("merchant_id")
    for name in ("rotate-keys", "rotate-webhook-secret"):
        r = sub.add_parser(name, help="add a new one; the old one stays valid for --grace-hours (-1: until retired)")
        r.add_argument("merchant_id")
        r.add_argument("--grace-hours", type=float, default=24.0)
    rk = sub.add_parser("retire-key", help="stop accepting one access key now")
    rk.add_argument("merchant_id")
    rk.add_argument("access_key_id")
    w = sub.add_parser("set-webhook-url")
    w.add_argument("merchant_id")
    w.add_argument("url", nargs="?", help="omit to remove")
    d = sub.add_parser("seed-demo", help="local only: create demo-shop and demo-books, write their credentials")
    d.add_argument("--port", type=int, default=8100, help="the demo merchant server's port")
    d.add_argument("--out", required=True, help="where to write local-merchants.json")
    o = sub.add_parser("set-origins")
    o.add_argument("merchant_id")
    o.add_argument("origins", nargs="+")
    return p


async def run(store: MerchantStore, args: argparse.Namespace, *, now: datetime, local: bool) -> dict[str, Any]:
    """One command; the JSON it prints."""
    cmd = args.command
    if cmd == "list":
        return {"merchants": [public_view(m, now) for m in await store.list_merchants()]}
    if cmd == "create":
        m = await registry.create_merchant(
            store,
            load_catalog(),
            merchant_id=args.merchant_id,
            display_name=args.name,
            market=args.market,
            currency=args.currency,
            origins=args.origin,
            webhook_url=args.webhook_url,
            now=now,
            local=local,
        )
        return {"merchant": public_view(m, now), "key": _key_view(m.keys[0]), "webhookSecret": m.webhook_secret}
    if cmd == "show":
        found = await store.get_merchant(args.merchant_id)
        if found is None:
            raise registry.MerchantNotFound("no such merchant", field="merchantId")
        return {"merchant": public_view(found, now)}
    if cmd in ("suspend", "activate"):
        status = MerchantStatus.SUSPENDED if cmd == "suspend" else MerchantStatus.ACTIVE
        return {"merchant": public_view(await registry.set_status(store, args.merchant_id, status, now=now), now)}
    if cmd == "rotate-keys":
        m, key = await registry.rotate_keys(store, args.merchant_id, now=now, grace=_grace(args.grace_hours))
        return {"merchant": public_view(m, now), "key": _key_view(key)}
    if cmd == "retire-key":
        m = await registry.retire_key(store, args.merchant_id, args.access_key_id, now=now)
        return {"merchant": public_view(m, now)}
    if cmd == "rotate-webhook-secret":
        m, secret = await registry.rotate_webhook_secret(
            store, args.merchant_id, now=now, grace=_grace(args.grace_hours)
        )
        return {"merchant": public_view(m, now), "webhookSecret": secret}
    if cmd == "retire-webhook-secret":
        return {"merchant": public_view(await registry.retire_webhook_secret(store, args.merchant_id, now=now), now)}
    if cmd == "set-webhook-url":
        m = await registry.set_webhook_url(store, args.merchant_id, args.url, now=now, local=local)
        return {"merchant": public_view(m, now)}
    if cmd == "set-origins":
        return {
            "merchant": public_view(await registry.set_origins(store, args.merchant_id, args.origins, now=now), now)
        }
    if cmd == "seed-demo":
        if not local:
            raise AppError("seed-demo is for a local stack only", field="BNPL_ENV")
        creds = await seed_demo_merchants(store, load_catalog(), port=args.port, now=now)
        await asyncio.to_thread(_write_private, Path(args.out), creds)
        return {"merchants": [public_view(m, now) for m in await store.list_merchants() if m.id in creds]}
    raise AssertionError(cmd)


def _write_private(path: Path, content: dict[str, Any]) -> None:
    """Write owner-only JSON (it holds secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps(content, indent=2) + "\n")


def _text(out: dict[str, Any]) -> str:
    lines = []
    for m in out.get("merchants", [out["merchant"]] if "merchant" in out else []):
        keys = ", ".join(k["accessKeyId"] + ("" if k["valid"] else " (retired)") for k in m["keys"])
        lines.append(
            f"{m['id']}\t{m['status']}\t{m['market']}/{m['currency']}\t{m['displayName']}\t"
            f"origins={','.join(m['origins'])}\twebhook={m['webhookUrl'] or '-'}\tkeys={keys}"
        )
    if "key" in out:
        lines.append(f"accessKeyId={out['key']['accessKeyId']}\nsecretAccessKey={out['key']['secretAccessKey']}")
    if "webhookSecret" in out:
        lines.append(f"webhookSecret={out['webhookSecret']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from bnpl_credit.settings import Settings
    from bnpl_credit.storage.factory import build_store

    args = parser().parse_args(argv)
    settings = Settings()
    store = build_store(settings)
    try:
        out = asyncio.run(run(store, args, now=datetime.now(UTC), local=settings.is_local))
    except AppError as exc:
        print(f"error: {exc.message}" + (f" ({exc.field})" if exc.field else ""), file=sys.stderr)
        return 2
    print(json.dumps(out, indent=2) if args.json else _text(out))
    return 0
