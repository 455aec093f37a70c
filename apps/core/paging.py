"""Paging big lists without paying for an exact count(*) or a deep OFFSET over a million rows.

Lists show "N found" on every page. Exact counts grow with the table (91 ms at a million clients),
so a list counts exactly only up to a threshold (settings.LIST_EXACT_COUNT_LIMIT, 10 000 by
default) and above it takes the planner's row estimate for the same query — flagged as an
estimate so the API and the admin can say «около N». Pages are taken over bare ids (an index-only
walk, however deep) and only the page's rows are then read with their joins and per-row extras.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from apps.core.db import unprepared


@dataclass(frozen=True)
class RowCount:
    value: int
    is_estimate: bool


def exact_count_limit() -> int:
    return settings.LIST_EXACT_COUNT_LIMIT


def bounded_count(queryset: QuerySet, limit: int | None = None) -> RowCount:
    """The exact count when it is at most `limit`, else the planner's estimate (never below limit + 1).

    The exact part is `SELECT count(*) FROM (... LIMIT limit + 1)`: it stops reading after limit + 1
    rows, so its cost is bounded whatever the table size. Once a statement has counted past the
    limit, this process skips that count for LIST_ESTIMATE_CACHE_SECONDS (the estimate is the
    answer anyway).
    """
    limit = exact_count_limit() if limit is None else limit
    ids = queryset.order_by().values("pk")
    try:
        key = _statement_key(ids)
    except EmptyResultSet:  # pk__in=[] (a search that found nothing), .none(): nothing to ask
        return RowCount(0, False)
    if limit <= 0:  # no count query at all: the planner's estimate (a list that has a next page)
        return RowCount(max(planner_estimate(ids, key=key), 1), True)
    over_key = (*key, limit)
    if settings.LIST_ESTIMATE_CACHE_SECONDS > 0 and _over_limit_until.get(over_key, 0.0) > time.monotonic():
        # Counted past the limit a moment ago: the answer is the estimate again, without reading
        # limit + 1 index entries on every page (1–16 ms at a million clients).
        return RowCount(max(planner_estimate(ids, key=key), limit + 1), True)
    counted = ids[: limit + 1].count()
    if counted <= limit:
        return RowCount(counted, False)
    _remember(_over_limit_until, over_key, time.monotonic() + settings.LIST_ESTIMATE_CACHE_SECONDS)
    return RowCount(max(planner_estimate(ids, key=key), limit + 1), True)


def planner_estimate(queryset: QuerySet, *, key: tuple | None = None) -> int:
    """Rows PostgreSQL expects the query to return (EXPLAIN, nothing is executed).

    Kept per statement and arguments for settings.LIST_ESTIMATE_CACHE_SECONDS in this process: an
    estimate does not need to be fresher than that, and the EXPLAIN was one of the four or five round
    trips of every list page past the exact limit (and of every search page) — 3–11 ms each at a
    million clients on a loaded machine.
    """
    ttl = settings.LIST_ESTIMATE_CACHE_SECONDS
    key = key or _statement_key(queryset)
    now = time.monotonic()
    cached = _estimates.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    plan = json.loads(queryset.explain(format="json"))
    rows = int(plan[0]["Plan"]["Plan Rows"])
    if ttl > 0:
        _remember(_estimates, key, (now + ttl, rows))
    return rows


def _statement_key(queryset: QuerySet) -> tuple:
    sql, params = queryset.query.sql_with_params()
    return (queryset.db, sql, tuple(map(repr, params)))


def _remember(cache: dict, key: tuple, value) -> None:
    if settings.LIST_ESTIMATE_CACHE_SECONDS <= 0:
        return
    if len(cache) >= _ESTIMATES_KEPT:
        cache.clear()  # a crude bound: searches make many distinct statements
    cache[key] = value


_ESTIMATES_KEPT = 2000
_estimates: dict[tuple, tuple[float, int]] = {}
# Statements whose bounded count went past the limit, until when that is taken as still true: a
# list that big shows «около N» anyway, and one that shrank under the limit shows the estimate
# for at most LIST_ESTIMATE_CACHE_SECONDS more.
_over_limit_until: dict[tuple, float] = {}


def rows_in_order(queryset: QuerySet, ids: list) -> list:
    """The rows of `ids`, read with the queryset's joins and prefetches, in the order of `ids`."""
    if not ids:
        return []
    found = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


class EstimatedCountPaginator(Paginator):
    """Django's paginator for the admin's change lists: a bounded count (an estimate above
    LIST_EXACT_COUNT_LIMIT, `count_is_estimate` tells) and pages read over ids first."""

    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        result = bounded_count(self.object_list)
        self.count_is_estimate = result.is_estimate
        return result.value

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = list(self.object_list.values_list("pk", flat=True)[bottom: bottom + self.per_page])
        return self._get_page(rows_in_order(self.object_list, ids), number, self)


class LargeTableAdminMixin:
    """For ModelAdmins of tables that grow without bound (clients, orders, leads, payments,
    documents, audit): no exact count of the whole table on every change-list page, and a search
    (`?q=`) planned for its own words (apps.core.db.unprepared)."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def changelist_view(self, request, extra_context=None):
        from django.contrib.admin.views.main import SEARCH_VAR  # admin's modules load with the admin

        if not request.GET.get(SEARCH_VAR):
            return super().changelist_view(request, extra_context)
        with unprepared():
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()  # the template's queries too (date hierarchy, facets) read the search
            return response
