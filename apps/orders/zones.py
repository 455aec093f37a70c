"""Every IANA time zone for the service form, named in Russian («Стамбул — Europe/Istanbul, UTC+03:00»).

The agency's usual zones come first; the rest follow in Russian alphabetical order. Names come from
the CLDR data in Babel; the list is built once per process.
"""

import functools
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location

from apps.orders.models import known_timezones


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
