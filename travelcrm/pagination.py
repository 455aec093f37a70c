"""The API's list pagination: the cost of a page, not of the table.

- **Pages over ids first.** The filtered, ordered list is paged as bare ids (an index-only walk even
  a million rows deep); only the page's rows are then read with their joins, prefetches and per-row
  JSON. A view may hand over a flat `values_list("pk", flat=True)` queryset and read the rows itself
  (the client and order lists do), or a model queryset, whose page rows are read here.
- **Counts are exact up to LIST_EXACT_COUNT_LIMIT** (SEARCH_EXACT_COUNT_LIMIT for `?search=`), above
  it the planner's estimate with
  `count_is_estimate: true` (apps.core.paging). The last page and short lists need no count query.
- **Cursor (keyset) mode** for integrators walking everything: `?cursor=` (empty for the first
  page) pages by id, newest first, whatever `ordering` says; `next` carries the cursor of the next
  page. Each page costs the same however far the walk has gone.
"""

from __future__ import annotations

import base64
import binascii
from contextlib import nullcontext

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.query import FlatValuesListIterable
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from apps.core.db import unprepared
from apps.core.paging import RowCount, bounded_count, rows_in_order


def strict_page_size(request, param: str, default: int, maximum: int, *, noun: str = "Записей") -> int:
    """Missing or empty: the default size; above `maximum`: the maximum. Anything else that is not a
    whole number from 1 is a 400 (DRF silently used the default for «abc» or 0; the schema says from 1)."""
    raw = request.query_params.get(param, "")
    if raw == "":
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size < 1:
        raise ValidationError({param: [f"{noun} на странице — целое число от 1 (больше {maximum} не отдаётся)."]})
    return min(size, maximum)


class ListPagination(BasePagination):
    page_size = 50
    max_page_size = 200
    page_query_param = "page"
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        self.size = self._page_size(request)
        self.cursor_mode = self.cursor_query_param in request.query_params
        ids_only = queryset._iterable_class is FlatValuesListIterable
        ids_queryset = queryset if ids_only else queryset.values_list("pk", flat=True)
        # A search's best plan depends on its words: never a cached generic plan (apps.core.db).
        with unprepared() if request.query_params.get("search") else nullcontext():
            if self.cursor_mode:
                ids = self._cursor_page(ids_queryset, request)
            else:
                ids = self._numbered_page(ids_queryset, request)
        return ids if ids_only else rows_in_order(queryset, ids)

    def _numbered_page(self, ids_queryset: QuerySet, request) -> list:
        self.number = self._page_number(request)
        offset = (self.number - 1) * self.size
        window = list(ids_queryset[offset: offset + self.size + 1])
        ids, self.has_next = window[: self.size], len(window) > self.size
        if not ids and self.number > 1:
            raise NotFound("Такой страницы нет: она за концом списка.")
        # Only a page with more rows after it needs a count query; otherwise the count is known.
        if self.has_next:
            count = bounded_count(ids_queryset, limit=self._count_limit(request))
            # Never below what the pages prove: this page is full and has a next one.
            self.count = RowCount(max(count.value, offset + len(ids) + 1), count.is_estimate)
        else:
            self.count = RowCount(offset + len(ids), False)
        return ids

    @staticmethod
    def _count_limit(request) -> int | None:
        """A search counts exactly only up to SEARCH_EXACT_COUNT_LIMIT (0 by default: the planner's
        estimate, no count query): a common surname matches tens of thousands of a million clients, and
        counting them — even up to a limit, through the trigram index's bitmap — cost 300 ms."""
        return settings.SEARCH_EXACT_COUNT_LIMIT if request.query_params.get("search") else None

    def _cursor_page(self, ids_queryset: QuerySet, request) -> list:
        after = decode_cursor(request.query_params.get(self.cursor_query_param, ""))
        walk = ids_queryset.order_by("-pk")
        if after is not None:
            walk = walk.filter(pk__lt=after)
        window = list(walk[: self.size + 1])
        ids, self.has_next = window[: self.size], len(window) > self.size
        self.next_cursor = encode_cursor(ids[-1]) if self.has_next else None
        self.count = None
        return ids

    def _page_size(self, request) -> int:
        return strict_page_size(request, self.page_size_query_param, self.page_size, self.max_page_size)

    def _page_number(self, request) -> int:
        raw = request.query_params.get(self.page_query_param)
        if raw in (None, ""):
            return 1
        try:
            number = int(raw)
        except ValueError:
            raise NotFound("Неверный номер страницы.") from None
        if number < 1:
            raise NotFound("Неверный номер страницы.")
        return number

    # --- Response ----------------------------------------------------------------------------------

    def get_paginated_response(self, data) -> Response:
        return Response({
            "count": None if self.count is None else self.count.value,
            "count_is_estimate": bool(self.count and self.count.is_estimate),
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        if self.cursor_mode:
            return replace_query_param(url, self.cursor_query_param, self.next_cursor)
        return replace_query_param(url, self.page_query_param, self.number + 1)

    def get_previous_link(self) -> str | None:
        if self.cursor_mode or self.number <= 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["count", "count_is_estimate", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer", "nullable": True, "example": 123,
                    "description": "Сколько всего записей: точно до LIST_EXACT_COUNT_LIMIT, выше — оценка "
                                   "планировщика (count_is_estimate); null в режиме cursor.",
                },
                "count_is_estimate": {"type": "boolean", "example": False},
                "next": {"type": "string", "nullable": True, "format": "uri",
                         "example": "https://crm.example.ru/api/v1/orders/?page=3"},
                "previous": {"type": "string", "nullable": True, "format": "uri",
                             "example": "https://crm.example.ru/api/v1/orders/?page=1"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {"name": self.page_query_param, "required": False, "in": "query",
             "description": "Номер страницы (с 1).", "schema": {"type": "integer", "minimum": 1}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Записей на странице (до {self.max_page_size}).",
             "schema": {"type": "integer", "minimum": 1}},
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "Обход всего списка по id, от новых к старым: пустое значение — первая "
                            "страница, дальше — значение из ссылки next.",
             "schema": {"type": "string"}},
        ]


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> int | None:
    if not raw:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind == "id" and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ValidationError({"cursor": ["Неверный курсор: возьмите его из ссылки next предыдущей страницы."]})
