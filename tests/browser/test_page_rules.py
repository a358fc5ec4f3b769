"""The checkout page checks a profile with the user service's own rules: the same countries,
ages and phone format. Static checks of the page's modules (no browser needed)."""

from __future__ import annotations

import re

from bnpl_user.countries import ISO_3166_ALPHA2
from bnpl_user.profiles import schemas, service

from scripts.devstack import ROOT

CHECKOUT = ROOT / "services" / "gateway" / "web" / "checkout"


def test_the_page_offers_exactly_the_countries_the_server_accepts() -> None:
    source = (CHECKOUT / "countries.js").read_text()
    codes = re.search(r'COUNTRY_CODES = "([A-Z ]+)"', source)
    assert codes is not None
    assert set(codes.group(1).split()) == set(ISO_3166_ALPHA2)


def test_the_page_uses_the_servers_age_limits_and_phone_format() -> None:
    source = (CHECKOUT / "profile.js").read_text()
    assert f"MIN_AGE = {service.MIN_AGE};" in source
    assert f"MAX_AGE = {service.MAX_AGE};" in source
    assert f"E164 = /{schemas._E164_RE.pattern}/;" in source
