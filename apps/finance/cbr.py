"""The Central Bank of Russia daily rates: one small HTTP client and the XML parser.

GET {CBR_RATES_URL}?date_req=DD/MM/YYYY answers Windows-1251 XML:

    <ValCurs Date="02.03.2024" name="Foreign Currency Market">
      <Valute ID="R01235"><NumCode>840</NumCode><CharCode>USD</CharCode><Nominal>1</Nominal>
        <Name>Доллар США</Name><Value>91,3336</Value><VunitRate>91,3336</VunitRate></Valute>
    ...

`Date` is the date the rates were set, which differs from the asked date on weekends and holidays.
"""

import logging
import urllib.parse
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element  # noqa: S405 — the type only; parsing goes through defusedxml

import httpx
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedET
from django.conf import settings

from apps.core import http

logger = logging.getLogger("travelcrm.finance.cbr")

RATE_QUANT = Decimal("0.0000000001")


class RatesFeedError(Exception):
    """The bank could not be reached or answered something that is not a rates document."""


@dataclass(frozen=True)
class BankRate:
    currency: str
    nominal: int
    rate: Decimal  # rubles per one unit


@dataclass(frozen=True)
class DailyRates:
    asked_date: date
    bank_date: date
    rates: list[BankRate]


def _get(url: str, *, retries: int, backoff: float) -> bytes:
    """The retry policy is apps/core/http.py's (network errors and 5xx again, a 4xx at once)."""
    try:
        response = http.get(
            url,
            headers={"User-Agent": "travelcrm-rates/1.0"},
            attempts=retries,
            backoff=backoff,
            follow_redirects=True,
        )
    except httpx.TransportError as error:
        raise RatesFeedError(f"Сервер курсов ЦБ недоступен: {error or type(error).__name__}") from None
    if response.status_code >= 400:
        raise RatesFeedError(f"Сервер курсов ЦБ недоступен: HTTP {response.status_code}")
    return response.content


def _decimal(text: str | None, what: str) -> Decimal:
    try:
        value = Decimal((text or "").strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise RatesFeedError(f"Неверное число в ответе ЦБ ({what}): {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise RatesFeedError(f"Неверное число в ответе ЦБ ({what}): {text!r}")
    return value


def parse_daily(content: bytes, *, asked_date: date) -> DailyRates:
    """Parse the bank's XML (the encoding comes from its XML declaration, Windows-1251)."""
    try:
        root = DefusedET.fromstring(content, forbid_dtd=True)
    except DefusedET.ParseError as error:
        raise RatesFeedError(f"Ответ ЦБ — не XML с курсами: {error}") from None
    except DefusedXmlException as error:  # a DTD or entities: a foreign feed has no business with them
        raise RatesFeedError(f"Ответ ЦБ отклонён: {type(error).__name__}") from None
    if root.tag != "ValCurs":
        raise RatesFeedError(f"Ответ ЦБ — не документ ValCurs (корневой элемент {root.tag!r}).")
    try:
        bank_date = datetime.strptime(root.get("Date", ""), "%d.%m.%Y").date()  # noqa: DTZ007 — a plain date
    except ValueError:
        raise RatesFeedError(f"Неверная дата в ответе ЦБ: {root.get('Date')!r}") from None
    rates = [_parse_valute(valute) for valute in root.findall("Valute")]
    if not rates:
        raise RatesFeedError("ЦБ не вернул ни одного курса на эту дату.")
    return DailyRates(asked_date=asked_date, bank_date=bank_date, rates=rates)


def _parse_valute(valute: Element) -> BankRate:
    code = (valute.findtext("CharCode") or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise RatesFeedError(f"Неверный код валюты в ответе ЦБ: {code!r}")
    nominal_text = (valute.findtext("Nominal") or "").strip()
    if not nominal_text.isdigit() or int(nominal_text) <= 0:
        raise RatesFeedError(f"Неверный номинал {code} в ответе ЦБ: {nominal_text!r}")
    nominal = int(nominal_text)
    unit_text = valute.findtext("VunitRate")
    if unit_text is not None and unit_text.strip():
        per_unit = _decimal(unit_text, f"VunitRate {code}")
    else:
        per_unit = _decimal(valute.findtext("Value"), f"Value {code}") / nominal
    return BankRate(currency=code, nominal=nominal, rate=per_unit.quantize(RATE_QUANT))


def fetch_daily(on_date: date) -> DailyRates:
    """Ask the bank for the rates of one date (timeouts on every call, retries with backoff)."""
    query = urllib.parse.urlencode({"date_req": on_date.strftime("%d/%m/%Y")}, safe="/")
    url = f"{settings.CBR_RATES_URL}?{query}"
    content = _get(
        url,
        retries=getattr(settings, "CBR_RETRIES", 3),
        backoff=getattr(settings, "CBR_RETRY_BACKOFF_SECONDS", 0.5),
    )
    return parse_daily(content, asked_date=on_date)
