"""What the client card shows below the client's own data: sections added by higher apps.

The client's orders, payments and documents live in apps above clients; they register a section
here (`register_client_card_section(func)`, func(client, request) -> safe HTML) and the client
admin renders them in order, without importing those apps.
"""

from collections.abc import Callable

from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

CardSection = Callable[[object, object], str]
_sections: list[CardSection] = []


def register_client_card_section(func: CardSection) -> CardSection:
    if func not in _sections:
        _sections.append(func)
    return func


def render_client_card(client, request) -> SafeString:
    parts = [section(client, request) for section in _sections]
    return format_html_join("", "{}", ((mark_safe(part),) for part in parts if part))  # noqa: S308 - sections return escaped HTML
