"""The committed merchant API document matches the code (``make merchant-openapi`` rewrites it)."""

from __future__ import annotations

import json

from bnpl_credit.merchant_openapi import DOCUMENT_PATH, render


def test_the_merchant_openapi_document_has_not_drifted() -> None:
    committed = DOCUMENT_PATH.read_text()
    assert committed == render(), "services/credit/merchant-openapi.json is stale: run `make merchant-openapi`"


def test_it_holds_only_the_merchant_routes() -> None:
    paths = json.loads(DOCUMENT_PATH.read_text())["paths"]
    assert paths and all(path.startswith("/v1/merchant/") for path in paths)
    assert {"/v1/merchant/checkouts", "/v1/merchant/checkouts/{checkout_id}/captures"} <= set(paths)
