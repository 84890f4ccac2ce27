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
#: The ISO 4217 currencies a brand chooses for a budget, a cost, a code, a shop or a rule
#: (typed in the API, the CLI, the panel and CSV imports: ``schemas.Currency``), with those
#: withdrawn since 2020 (HRK, SLL, ANG, CUC, ZWL, VEF), as old costs may be in them. Left
#: out: fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), metals, drawing rights and
#: the test and no-currency codes (XAU, XDR, XTS, XXX...). What a shop sends is not checked
#: against it (``currency_code``: three letters), so an order is never lost to a new code.
CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD
    JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
    MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VEF VES VND VUV WST XAF XCD
    XCG XOF XPF YER ZAR ZMW ZWG ZWL""".split()  # noqa: SIM905 (a list of 150 codes reads worse)
)
#: A decimal as JSON, CSV and people write it, in ASCII digits: Decimal alone also takes
#: "1_000", "٣" (Arabic-Indic three) and "Infinity".
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
MAX_MINOR = 10**15
#: Checked before any arithmetic, so "1e999999" is refused instead of overflowing Decimal.
_MAX_DIGITS = 15
_UNIT = Decimal(1)


def currency_code(value: Any) -> str:
    """' eur ' -> 'EUR'; anything but three ASCII letters (a number, null, 'EURO', 'ﬀf',
    whose upper case is 'FFF') is a 422."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Unprocessable("currency: required, an ISO 4217 code such as USD")
    text = typed_currency(value) if isinstance(value, str) else ""
    if not _CURRENCY.match(text):
        raise Unprocessable(f"currency: {value!r} is not an ISO 4217 code")
    return text


def typed_currency(text: str) -> str:
    """What a person typed as a currency, upper-cased for the rule to check: ASCII only, as
    'ﬀf'.upper() is 'FFF' (the rule then refuses what is left as typed)."""
    return text.strip().upper() if text.isascii() else text


def to_minor(amount: Any, currency: str, *, exact: bool = False) -> int:
    """'598.94' USD -> 59894; '1500' JPY -> 1500. Rejects NaN, inf and absurd values. More
    decimals than the currency has are rounded half to even (what a shop sends: a
    WooCommerce store set to 3 decimals sends '12.345' USD), or with ``exact`` (what people
    type: the CLI, the panel, CSV files) refused: '12.345' JPY is a typo, not 12 yen."""
    if amount is None or amount == "":
        return 0
    if isinstance(amount, bool):
        raise Unprocessable(f"amount: {amount!r} is not a number")
    text = str(amount).strip()
    if not _DECIMAL.fullmatch(text):
        raise Unprocessable(f"amount: {amount!r} is not a number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Unprocessable(f"amount: {amount!r} is not a number") from None
    if value.adjusted() > _MAX_DIGITS:
        raise Unprocessable(f"amount: {amount!r} is out of range")
    exp = exponent(currency)
    scaled = value * 10**exp
    if exact and scaled != scaled.to_integral_value():
        raise Unprocessable(f"amount: {amount!r} has more than {exp} decimals for {currency}")
    # Half to even, written out although it is also Decimal's default rounding.
    minor = int(scaled.quantize(_UNIT, rounding=ROUND_HALF_EVEN))  # pragma: no mutate
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
