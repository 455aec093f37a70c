"""Extra context for the lead's admin page from apps above leads (the reply box and the delivery
status of outgoing messages come from integrations through the workplace): `register_lead_page_context
(func)`, func(lead, request) -> dict merged into the page's context."""

from collections.abc import Callable

LeadPageContext = Callable[[object, object], dict]
_providers: list[LeadPageContext] = []


def register_lead_page_context(func: LeadPageContext) -> LeadPageContext:
    if func not in _providers:
        _providers.append(func)
    return func


def lead_page_context(lead, request) -> dict:
    context: dict = {}
    for provider in _providers:
        context.update(provider(lead, request) or {})
    return context
