"""Slow requests cannot occupy every web worker: HEAVY_REQUEST_SLOTS across all processes
(`other_process_holding` is in the root conftest; documents and imports test their own views)."""

import pytest

from apps.core.heavy import acquire_slot, release_slot
from apps.finance.tests.test_reports import book, read_csv  # noqa: F401 - the reports' fixture

pytestmark = pytest.mark.django_db


def test_a_report_answers_503_server_busy_while_every_slot_is_taken(accountant_api, book, settings,  # noqa: F811
                                                                    other_process_holding):
    settings.HEAVY_REQUEST_SLOTS = 2
    other_process_holding(0, 1)
    response = accountant_api.get("/api/v1/reports/clients/")
    assert response.status_code == 503
    assert response.json()["code"] == "server_busy" and response["Retry-After"] == "30"
    # A quick request is not limited.
    assert accountant_api.get("/api/v1/auth/me/").status_code == 200


def test_a_free_slot_is_taken_and_given_back_even_by_a_streamed_csv(accountant_api, book, settings,  # noqa: F811
                                                                     other_process_holding):
    settings.HEAVY_REQUEST_SLOTS = 2
    other_process_holding(0)
    for _ in range(3):  # more requests than free slots, one after another: each gives its slot back
        assert accountant_api.get("/api/v1/reports/clients/").status_code == 200
        response = accountant_api.get("/api/v1/reports/clients/csv/")
        assert len(read_csv(response)) >= 1
    assert acquire_slot() == 1  # the only free one, not leaked by the requests above
    release_slot(1)


def test_no_limit_when_slots_are_zero(settings):
    settings.HEAVY_REQUEST_SLOTS = 0
    assert acquire_slot() == -1
    release_slot(-1)
