"""Facility and place names made comparable: the one name normaliser.

Every comparison of names (geocoding mentions against OSM, de-duplicating
facility layers, place lookups) goes through these functions, so two names
equal in one module are equal in every other.
"""

from __future__ import annotations

import math
import re
import unicodedata

import pandas as pd

__all__ = ["nfkc", "strip_punct", "clean_name"]

_BRACKETS = re.compile(r"[（(【\[〔［][^）)】\]〕］]*[）)】\]〕］]")
_PUNCT = re.compile(r"[\s·・•.,，。、;；:：\-—–_~'\"“”‘’&＆/|]+")


def nfkc(s: object) -> str:
    """``s`` as NFKC text without surrounding space; ``''`` for a missing value (None, NaN, NA).

    >>> nfkc(" ＡＢＣ１ ")
    'ABC1'
    """
    if s is None or s is pd.NA or (isinstance(s, float) and not math.isfinite(s)):
        return ""
    return unicodedata.normalize("NFKC", str(s)).strip()


def strip_punct(s: object) -> str:
    """:func:`nfkc` without spaces and punctuation (``·``, ``-``, quotes, ``/`` ...)."""
    return _PUNCT.sub("", nfkc(s))


def clean_name(s: object) -> str:
    """The comparable form of a name: NFKC, no bracketed parts, no spaces or punctuation, lower case.

    >>> clean_name("新江湾城 公园（南门）")
    '新江湾城公园'
    >>> clean_name("Ｙｏｕｔｈ·Center")
    'youthcenter'
    """
    return _PUNCT.sub("", _BRACKETS.sub("", nfkc(s))).lower()
