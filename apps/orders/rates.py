"""Where orders get currency rates from: a provider registered by a higher app (finance).

Orders sit below finance (docs/development.md), so they never import it; finance registers
`apps.finance.selectors.rate_for` in its AppConfig.ready(), as it does for the "overpaid" warning.
A provider is `func(currency_from, currency_to, on_date) -> Decimal` and raises BusinessError when
it does not know the rate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

RateProvider = Callable[[str, str, date], Decimal]
_rate_provider: RateProvider | None = None


def register_rate_provider(func: RateProvider) -> RateProvider:
    """Make `func` the source of rates for services in a foreign currency (the last one wins)."""
    global _rate_provider
    _rate_provider = func
    return func


def rate_provider() -> RateProvider | None:
    """The registered provider, or None when no app provides rates (the user must type the rate)."""
    return _rate_provider
