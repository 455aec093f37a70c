"""Slow work (reports over long periods, exports, PDF generation, imports) may not occupy every
web worker: at most settings.HEAVY_REQUEST_SLOTS such requests run at once across all web
processes and machines; the next one answers 503 `server_busy` with Retry-After at once instead
of queueing managers' quick requests behind it.

The slots are PostgreSQL session advisory locks (`pg_try_advisory_lock(class, slot)`): shared by
every process on the one database, released at the end of the request — and by PostgreSQL itself
if a worker dies holding one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpResponse
from rest_framework.exceptions import APIException

from apps.core import queries

# The advisory-lock class (first key) of the heavy slots: "HEAV" in ASCII, unlikely to collide.
LOCK_CLASS = 0x48454156


class ServerBusy(APIException):
    status_code = 503
    default_code = "server_busy"
    default_detail = ("Сейчас выполняется слишком много тяжёлых операций (отчёты, выгрузки, документы, импорт). "
                      "Повторите через минуту.")
    wait = 30  # seconds, sent as Retry-After


def acquire_slot() -> int | None:
    """The number of a free slot, now held by this connection, or None when all are taken."""
    slots = settings.HEAVY_REQUEST_SLOTS
    if slots <= 0:
        return -1  # no limit configured
    return queries.advisory_lock_try_any(LOCK_CLASS, slots)


def release_slot(slot: int | None) -> None:
    if slot is None or slot < 0:
        return
    queries.advisory_unlock(LOCK_CLASS, slot)


@contextmanager
def heavy_slot() -> Iterator[None]:
    """Hold a heavy slot for the block (PDF generation, a CSV import run inside the request);
    ServerBusy when none is free. For views where only part of the work is slow — an import that
    goes to a job, the checks before a document — so only that part counts against the limit."""
    slot = acquire_slot()
    if slot is None:
        raise ServerBusy()
    try:
        yield
    finally:
        release_slot(slot)


def mark_busy(response: HttpResponse) -> HttpResponse:
    """An admin page that could not start its heavy work: 503 with Retry-After, like the API."""
    response.status_code = ServerBusy.status_code
    response["Retry-After"] = str(ServerBusy.wait)
    return response


class HeavyRequestMixin:
    """For API views whose requests are slow by nature: take a heavy slot for the request (503
    `server_busy` when none is free) and give it back when the response — streamed ones included —
    is finished."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and permissions come first
        slot = acquire_slot()
        if slot is None:
            raise ServerBusy()
        self._heavy_slot = slot

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        slot, self._heavy_slot = getattr(self, "_heavy_slot", None), None
        if slot is None:
            return response
        if response.streaming:
            response.streaming_content = _released_after(response.streaming_content, slot)
        else:
            release_slot(slot)
        return response


def _released_after(chunks, slot: int):
    try:
        yield from chunks
    finally:
        release_slot(slot)
