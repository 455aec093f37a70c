"""Who turns a lead into an order: the orders app registers its service here (it sits above leads).

The lead admin's «Преобразовать в заказ» button and list action call `convert_lead(...)` without
importing the orders app; the order's page is found by its admin URL name.
"""

from collections.abc import Callable

from apps.core.errors import BusinessError

LeadConverter = Callable[..., object]  # (lead=..., actor=...) -> order
_converter: LeadConverter | None = None


def register_lead_converter(func: LeadConverter) -> LeadConverter:
    global _converter
    _converter = func
    return func


def convert_lead(*, lead, actor):
    if _converter is None:
        raise BusinessError("Преобразование в заказ недоступно: приложение заказов не подключено.",
                            code="converter_missing")
    return _converter(lead=lead, actor=actor)
