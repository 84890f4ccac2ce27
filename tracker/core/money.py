"""Money: integer minor units with an ISO 4217 currency; the one parser and the exponents.

A decimal amount ("598.94") becomes minor units exactly (Decimal, never float) with the
currency's own exponent (JPY 0, KWD 3, most 2); ``major`` turns minor units back into the
text people read and type (CLI, panel, CSV).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from tracker.core.errors import Unprocessable

#: Currencies whose minor unit is not 1/100 (ISO 4217); everything else has two decimals.
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_MINOR = 10**15


def currency_code(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not _CURRENCY.match(code):
        raise Unprocessable(f"currency: {value!r} is not an ISO 4217 code")
    return code


def to_minor(amount: Any, currency: str) -> int:
    """'598.94' USD -> 59894; '1500' JPY -> 1500. Rejects NaN, inf and absurd values."""
    if amount is None or amount == "":
        return 0
    if isinstance(amount, bool):
        raise Unprocessable(f"amount: {amount!r} is not a number")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise Unprocessable(f"amount: {amount!r} is not a number") from None
    if not value.is_finite():
        raise Unprocessable(f"amount: {amount!r} is not a number")
    exp = exponent(currency)
    minor = int((value * (10**exp)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    if abs(minor) > MAX_MINOR:
        raise Unprocessable(f"amount: {amount!r} is out of range")
    return minor


def exponent(currency: str) -> int:
    """Digits after the decimal point in ``currency``'s minor unit."""
    return _EXPONENTS.get(currency, 2)


def major(minor: int, currency: str) -> str:
    """59894 USD -> '598.94'; 1500 JPY -> '1500'; exact, no float."""
    exp = exponent(currency)
    if exp == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}"


def convert(
    minor: int | float, currency: str, target: str, rates: dict[str, float]
) -> float | None:
    """Minor units of ``currency`` -> minor units of ``target``; None without a rate."""
    if currency == target:
        return float(minor)
    rate = rates.get(currency)
    if rate is None:
        return None
    src, dst = exponent(currency), exponent(target)
    return float(minor / 10**src * rate * 10**dst)
