"""Extra context for the lead's admin page from apps above leads (the reply box and the delivery
status of outgoing messages come from integrations through the workplace): `register_lead_page_context
(func)`, func(lead, request) -> dict merged into the page's context."""

from collections.abc import Callable

LeadPageContext = Callable[[object, object], dict]
_providers: list[LeadPageContext] = []
# func(lead_id) -> {outgoing LeadMessage.external_id: "delivery status text"} — one query per page.
DeliveryStatuses = Callable[[int], dict]
_delivery: list[DeliveryStatuses] = []


def register_delivery_statuses(func: DeliveryStatuses) -> DeliveryStatuses:
    if func not in _delivery:
        _delivery.append(func)
    return func


def delivery_statuses(lead_id: int) -> dict:
    statuses: dict = {}
    for provider in _delivery:
        statuses.update(provider(lead_id) or {})
    return statuses


def register_lead_page_context(func: LeadPageContext) -> LeadPageContext:
    if func not in _providers:
        _providers.append(func)
    return func


def lead_page_context(lead, request) -> dict:
    context: dict = {}
    for provider in _providers:
        context.update(provider(lead, request) or {})
    return context
