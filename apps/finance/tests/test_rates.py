from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from apps.core.errors import BusinessError
from apps.finance.cbr import RatesFeedError, parse_daily
from apps.finance.models import CurrencyRate, RateSource
from apps.finance.selectors import rate_for
from apps.finance.services import rate_set_manual
from apps.finance.tests.fake_cbr import closed_port_url, daily_xml

pytestmark = pytest.mark.django_db

FRIDAY = date(2026, 11, 20)
SUNDAY = date(2026, 11, 22)


def test_parse_real_format_with_and_without_vunitrate():
    with_unit = parse_daily(daily_xml(FRIDAY), asked_date=FRIDAY)
    without_unit = parse_daily(daily_xml(FRIDAY, vunit=False), asked_date=FRIDAY)
    by_code = {r.currency: r for r in with_unit.rates}
    assert by_code["USD"].rate == Decimal("92.5000000000")
    assert by_code["KZT"].nominal == 100
    assert by_code["KZT"].rate == Decimal("0.1840000000")
    assert {r.currency: r.rate for r in without_unit.rates} == {r.currency: r.rate for r in with_unit.rates}
    assert with_unit.bank_date == FRIDAY


@pytest.mark.parametrize("content", [b"", b"<html>oops", b"<ValCurs Date='bad'><Valute/></ValCurs>",
                                     b"<ValCurs Date='20.11.2026'><Valute><CharCode>USD</CharCode><Nominal>1"
                                     b"</Nominal><Value>abc</Value></Valute></ValCurs>"])
def test_parse_refuses_broken_xml(content):
    with pytest.raises(RatesFeedError):
        parse_daily(content, asked_date=FRIDAY)


@pytest.mark.parametrize("content", [
    b'<?xml version="1.0"?><!DOCTYPE ValCurs [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    b'<ValCurs Date="20.11.2026"><Valute><CharCode>&b;</CharCode></Valute></ValCurs>',  # entity expansion
    b'<?xml version="1.0"?><!DOCTYPE ValCurs SYSTEM "file:///etc/passwd"><ValCurs Date="20.11.2026"/>',
])
def test_parse_refuses_dtds_and_entities(content):
    with pytest.raises(RatesFeedError, match="отклонён"):
        parse_daily(content, asked_date=FRIDAY)


def test_fetch_rates_stores_the_day_and_the_answer_date_of_a_weekend(fake_cbr):
    call_command("fetch_rates", "--date", "2026-11-20")
    call_command("fetch_rates", "--date", "22.11.2026")
    friday = CurrencyRate.objects.get(date=FRIDAY, currency="USD", source=RateSource.CBR)
    sunday = CurrencyRate.objects.get(date=SUNDAY, currency="JPY")
    assert friday.bank_date == FRIDAY and friday.rate == Decimal("92.5")
    assert sunday.bank_date == date(2026, 11, 21)  # the bank answered with Saturday's rates
    assert sunday.nominal == 100 and sunday.rate == Decimal("0.612345")
    assert not CurrencyRate.objects.filter(currency="XDR").exists()  # not a currency we work with
    assert "date_req=22/11/2026" in fake_cbr.requests[-1]


def test_fetch_rates_is_idempotent_and_updates_corrections(fake_cbr, capsys):
    call_command("fetch_rates", "--from", "2026-11-20", "--to", "2026-11-22")
    count = CurrencyRate.objects.count()
    call_command("fetch_rates", "--from", "2026-11-20", "--to", "2026-11-22")
    assert CurrencyRate.objects.count() == count == 3 * 6
    assert "новых 0, обновлено 0" in capsys.readouterr().out
    fake_cbr.shift = "7"
    call_command("fetch_rates", "--date", "2026-11-20")
    assert CurrencyRate.objects.get(date=FRIDAY, currency="USD").rate == Decimal("92.5007")
    assert CurrencyRate.objects.count() == count


@pytest.mark.parametrize("mode", ["broken", "error", "empty"])
def test_broken_feed_is_reported_and_stores_nothing(fake_cbr, mode):
    fake_cbr.mode = mode
    with pytest.raises(CommandError, match="ничего не сохранено"):
        call_command("fetch_rates", "--date", "2026-11-20")
    assert CurrencyRate.objects.count() == 0


def test_one_broken_day_in_a_range_stores_nothing(fake_cbr):
    fake_cbr.broken_dates = {date(2026, 11, 21)}
    with pytest.raises(CommandError):
        call_command("fetch_rates", "--from", "2026-11-20", "--to", "2026-11-22")
    assert CurrencyRate.objects.count() == 0


def test_server_error_is_retried(fake_cbr):
    fake_cbr.mode = "error"
    with pytest.raises(CommandError):
        call_command("fetch_rates", "--date", "2026-11-20")
    assert len(fake_cbr.requests) == 3


def test_transient_server_error_is_retried_and_the_rates_stored(fake_cbr):
    fake_cbr.fail_next = [503, 502]
    call_command("fetch_rates", "--date", "2026-11-20")
    assert len(fake_cbr.requests) == 3  # two 5xx, then the answer
    assert CurrencyRate.objects.get(date=FRIDAY, currency="USD").rate == Decimal("92.5")


def test_client_error_is_not_retried(fake_cbr):
    fake_cbr.fail_next = [404, 404, 404]
    with pytest.raises(CommandError, match="HTTP 404"):
        call_command("fetch_rates", "--date", "2026-11-20")
    assert len(fake_cbr.requests) == 1  # a 4xx will not get better on retry
    assert CurrencyRate.objects.count() == 0


def test_retries_follow_cbr_retries(fake_cbr, settings):
    settings.CBR_RETRIES = 5
    fake_cbr.mode = "error"
    with pytest.raises(CommandError, match="HTTP 500"):
        call_command("fetch_rates", "--date", "2026-11-20")
    assert len(fake_cbr.requests) == 5


def test_network_error_is_reported(settings):
    settings.CBR_RATES_URL = closed_port_url()
    settings.CBR_RETRY_BACKOFF_SECONDS = 0
    with pytest.raises(CommandError, match="недоступен"):
        call_command("fetch_rates", "--date", "2026-11-20")
    assert CurrencyRate.objects.count() == 0


@pytest.mark.parametrize("args", [["--date", "31.02.2026"], ["--from", "2026-11-20"],
                                  ["--from", "2026-11-22", "--to", "2026-11-20"],
                                  ["--from", "2024-01-01", "--to", "2026-01-01"]])
def test_bad_arguments(args):
    with pytest.raises(CommandError):
        call_command("fetch_rates", *args)


def test_rate_for_direct_cross_and_missing(fake_cbr):
    call_command("fetch_rates", "--date", "2026-11-20")
    assert rate_for("USD", "RUB", FRIDAY) == Decimal("92.5")
    assert rate_for("RUB", "RUB", FRIDAY) == 1
    assert rate_for("EUR", "USD", FRIDAY) == (Decimal("100.25") / Decimal("92.5")).quantize(Decimal("1E-10"))
    assert rate_for("RUB", "USD", FRIDAY) == (1 / Decimal("92.5")).quantize(Decimal("1E-10"))
    with pytest.raises(BusinessError) as error:
        rate_for("USD", "RUB", date(2026, 11, 23))
    assert error.value.code == "rate_missing"
    assert "23.11.2026" in error.value.detail and "вручную" in error.value.detail


def test_manual_rate_wins_over_the_bank(fake_cbr):
    call_command("fetch_rates", "--date", "2026-11-20")
    rate_set_manual(currency="usd", on_date=FRIDAY, rate=Decimal("9300"), nominal=100)
    assert rate_for("USD", "RUB", FRIDAY) == Decimal("93")
    with pytest.raises(BusinessError):
        rate_set_manual(currency="XXX", on_date=FRIDAY, rate=Decimal("1"))
    with pytest.raises(BusinessError):
        rate_set_manual(currency="EUR", on_date=FRIDAY, rate=Decimal("-1"))


def test_fetch_rates_process_exits_non_zero_on_a_broken_feed(fake_cbr):
    """The real command line: a cron job sees the failure in the exit code and the reason on stderr."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    from urllib.parse import urlsplit, urlunsplit

    from django.conf import settings

    # The same server as this run (host or socket from DATABASE_URL), the test database.
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/travelcrm"))
    test_url = urlunsplit(url._replace(path="/" + settings.DATABASES["default"]["NAME"]))
    env = {**os.environ, "CBR_RATES_URL": fake_cbr.url, "CBR_RETRY_BACKOFF_SECONDS": "0", "DEBUG": "true",
           "DATABASE_URL": test_url}
    fake_cbr.mode = "broken"
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, str(root / "manage.py"), "fetch_rates", "--date", "2026-11-20"],
                            capture_output=True, text=True, env=env, timeout=120, cwd=root)
    assert result.returncode != 0
    assert "ничего не сохранено" in result.stderr
    assert CurrencyRate.objects.count() == 0


def test_a_rate_off_the_central_banks_by_more_than_ten_times_needs_confirmation(accountant_api, make_user):
    from django.test import Client as BrowserClient

    CurrencyRate.objects.create(date=FRIDAY, currency="KZT", nominal=100, rate=Decimal("0.1753"), source="cbr")
    # 17.53 typed as the rate of ONE tenge (the bank quotes it per 100): 100× off.
    with pytest.raises(BusinessError) as error:
        rate_set_manual(currency="KZT", on_date=FRIDAY + timedelta(days=1), rate=Decimal("17.53"))
    assert error.value.code == "rate_outlier" and "0.1753 ₽ за 1 KZT" in error.value.detail
    assert "17.53 ₽ за 100 KZT" in error.value.detail
    row = rate_set_manual(currency="KZT", on_date=FRIDAY + timedelta(days=1), rate=Decimal("17.60"), nominal=100)
    assert row.rate == Decimal("0.1760000000")
    body = {"currency": "KZT", "date": str(FRIDAY), "rate": "17.53", "nominal": 1}
    refused = accountant_api.post("/api/v1/finance/rates/", body, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "rate_outlier", refused.json()
    assert accountant_api.post("/api/v1/finance/rates/", {**body, "confirm": True}, format="json").status_code == 201
    # The admin form: the rate as the bank's table gives it, per unit worked out, a tick for an outlier.
    web = BrowserClient()
    web.force_login(make_user("accountant", is_staff=True))
    form = {"date": str(FRIDAY - timedelta(days=1)), "currency": "KZT", "nominal": "1", "rate_for_nominal": "17.53"}
    page = web.post("/admin/finance/currencyrate/add/", form)
    assert page.status_code == 200 and "больше чем в 10 раз" in page.content.decode()
    assert web.post("/admin/finance/currencyrate/add/", {**form, "nominal": "100"}).status_code == 302
    saved = CurrencyRate.objects.get(date=FRIDAY - timedelta(days=1), currency="KZT", source="manual")
    assert saved.rate == Decimal("0.1753000000") and saved.nominal == 100
    listing = web.get("/admin/finance/currencyrate/").content.decode()
    assert "17,53 за 100" in listing


def test_the_rate_form_asks_to_confirm_a_rate_more_than_ten_percent_off_the_banks(make_user):
    from django.test import Client as BrowserClient

    CurrencyRate.objects.create(date=FRIDAY, currency="USD", nominal=1, rate=Decimal("92.5"), source="cbr")
    web = BrowserClient()
    web.force_login(make_user("accountant", is_staff=True))
    form = {"date": str(SUNDAY), "currency": "USD", "nominal": "1", "rate_for_nominal": "105,00"}
    page = web.post("/admin/finance/currencyrate/add/", form).content.decode()
    assert "на 13,5 % — больше чем на 10 %" in page and "92,50 ₽ за 1 USD" in page
    assert not CurrencyRate.objects.filter(source="manual").exists()
    assert web.post("/admin/finance/currencyrate/add/", {**form, "confirm": "on"}).status_code == 302
    assert CurrencyRate.objects.get(date=SUNDAY, source="manual").rate == Decimal("105")
    # Within 10 % (a decimal comma and a thousands space as people type): saved without a question.
    close = {**form, "date": str(SUNDAY + timedelta(days=1)), "rate_for_nominal": "9 510,5", "nominal": "100"}
    assert web.post("/admin/finance/currencyrate/add/", close).status_code == 302
    assert CurrencyRate.objects.get(date=SUNDAY + timedelta(days=1), source="manual").rate == Decimal("95.105")
    # 10× off is still the nominal question (the message of the 10× refusal), also confirmable.
    far = {**form, "date": str(SUNDAY + timedelta(days=2)), "rate_for_nominal": "9,20"}
    assert "больше чем в 10 раз" in web.post("/admin/finance/currencyrate/add/", far).content.decode()
