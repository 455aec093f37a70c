"""Time zones of services: an airport's from its IATA code (the airportsdata package, ~7 900 airports),
and every IANA zone for the service form, named in Russian («Стамбул — Europe/Istanbul, UTC+03:00»).

The agency's usual zones come first; the rest follow in Russian alphabetical order. Names come from
the CLDR data in Babel; the list and the airports are loaded once per process.
"""

import functools
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location

from apps.orders.models import known_timezones

_IATA = re.compile(r"^[A-Za-z]{3}$")


@functools.cache
def _airports() -> dict:
    import airportsdata  # ~1 MB of data: loaded on the first lookup, not at start-up

    return airportsdata.load("IATA")


def airport_zone(code: str) -> str | None:
    """The IANA zone of an airport by its IATA code («AYT» → «Europe/Istanbul»); None if the text is
    not a known code (a city or a station name, a typo)."""
    text = (code or "").strip()
    if not _IATA.match(text):
        return None
    airport = _airports().get(text.upper())
    zone = airport.get("tz") if airport else None
    return zone if zone in known_timezones() else None


def _offset(zone: str) -> str:
    offset = datetime.now(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_label(zone: str) -> str:
    try:
        city = get_timezone_location(zone, locale="ru", return_city=True)
    except LookupError:
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{city} — {zone}, {_offset(zone)}"


@functools.cache
def zone_choices(common: tuple[str, ...]) -> list[tuple[str, str]]:
    first = [(zone, zone_label(zone)) for zone in common if zone in known_timezones()]
    rest = sorted(
        ((zone, zone_label(zone)) for zone in known_timezones() if zone not in common and "/" in zone),
        key=lambda item: item[1].lower(),
    )
    return [("Часто используемые", first), ("Все часовые пояса", rest)]


# --- the service form's zone boxes: a text box with one shared list of zones per page ---------------
#
# Two selects of ~600 zones on every service row were most of an order page's weight (HTML and time):
# each zone box is now an <input list="service-zones">, the page carries the list once
# (zone_datalist), and the box accepts what the list offers («Стамбул — Europe/Istanbul, UTC+03:00»),
# an IANA name («Europe/Istanbul») or a city named in Russian («Стамбул»).

DATALIST_ID = "service-zones"
_NAMED = re.compile(r"—\s*([A-Za-z0-9_+\-/]+)\s*(?:,|$)")


@functools.cache
def _ordered_zones(common: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(option for _group, options in zone_choices(common) for option in options)


@functools.cache
def zone_datalist(common: tuple[str, ...]):
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    options = "".join(f'<option value="{escape(label)}"></option>' for _zone, label in _ordered_zones(common))
    return mark_safe(f'<datalist id="{DATALIST_ID}">{options}</datalist>')  # noqa: S308 — labels escaped


def parse_zone(text: str, common: tuple[str, ...]) -> str | None:
    """The IANA zone a person typed or picked: "" for none, None when it names no zone."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    if text in known_timezones():
        return text
    named = _NAMED.search(text)
    if named and named.group(1) in known_timezones():
        return named.group(1)
    city = text.casefold()
    for zone, label in _ordered_zones(common):  # the agency's usual zones first
        if label.split(" — ", 1)[0].casefold() == city or zone.casefold() == city:
            return zone
    return None
