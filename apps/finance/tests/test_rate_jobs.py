"""The Central Bank's rates as jobs: the daily schedule and the admin button «Загрузить курсы ЦБ»."""

from datetime import timedelta

import pytest
from django.test import Client as BrowserClient
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.finance.models import CurrencyRate
from apps.finance.tasks import fetch_rates_daily
from apps.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # a real worker reads committed jobs


def _browser(user) -> BrowserClient:
    browser = BrowserClient()
    browser.force_login(user)
    return browser


def test_admin_button_enqueues_one_fetch_and_the_worker_stores_today_and_tomorrow(make_user, fake_cbr):
    accountant = make_user("accountant", is_staff=True)
    page = _browser(accountant).get("/admin/finance/currencyrate/")
    assert "Загрузить курсы ЦБ" in page.content.decode()
    response = _browser(accountant).post("/admin/finance/currencyrate/fetch-cbr/", follow=True)
    assert "поставлена в очередь" in response.content.decode()
    again = _browser(accountant).post("/admin/finance/currencyrate/fetch-cbr/", follow=True)
    assert "уже стоит в очереди" in again.content.decode()
    assert ProcrastinateJob.objects.filter(task_name="finance.fetch_rates").count() == 1
    assert not CurrencyRate.objects.exists()  # the page did not wait for the bank
    run_jobs()
    today = timezone.localdate()
    assert set(CurrencyRate.objects.values_list("date", flat=True)) == {today, today + timedelta(days=1)}


def test_button_is_refused_to_a_role_that_cannot_add_rates(make_user):
    operator = make_user("operator", is_staff=True)
    assert _browser(operator).post("/admin/finance/currencyrate/fetch-cbr/").status_code == 403
    assert _browser(operator).get("/admin/finance/currencyrate/fetch-cbr/").status_code == 403
    assert not ProcrastinateJob.objects.exists()


def test_failed_fetch_stores_nothing_and_is_retried_later(fake_cbr):
    fake_cbr.mode = "error"
    fetch_rates_daily(timestamp=0)  # what the schedule runs: it enqueues the fetch
    run_jobs()
    assert not CurrencyRate.objects.exists()
    job = ProcrastinateJob.objects.get(task_name="finance.fetch_rates")
    assert job.status == "todo" and job.attempts == 1 and job.scheduled_at > timezone.now()


def test_daily_schedule_comes_from_settings():
    schedules = {p.periodic_id: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    assert schedules["cbr_rates"] == "0 13 * * *"
