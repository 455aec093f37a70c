"""The manager's day in a real browser (Debian's Chromium, 1366 px, ru-RU): a Telegram lead → a reply
→ «Преобразовать в заказ» → services (a USD hotel typed with a decimal comma, a flight) → a document
→ «Сегодня». Playwright only drives /usr/bin/chromium; it never downloads a browser."""

import os
import re
import shutil
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.documents.models import Document
from apps.documents.services import default_templates_refresh, load_default_templates
from apps.documents.tests.conftest import s3_bucket  # noqa: F401 - fixture
from apps.finance.models import CurrencyRate
from apps.finance.tests.factories import make_requisites
from apps.integrations.tests.conftest import _settings, fake_telegram, telegram_bot  # noqa: F401 - fixtures
from apps.jobs.worker import run_jobs
from apps.leads.models import Lead
from apps.leads.services import lead_ingest
from conftest import TEST_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def settings_for_integrations(_settings):  # noqa: F811
    return _settings


@pytest.fixture
def page(monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is not installed: apt-get install -y chromium")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU",
                                      timezone_id="Europe/Moscow")
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        yield tab
        context.close()
        browser.close()


def _run_jobs_in_a_thread() -> None:
    """The worker runs its own event loop; Playwright's sync API holds this thread's."""
    worker = threading.Thread(target=_jobs_then_close)
    worker.start()
    worker.join(60)


def _jobs_then_close() -> None:
    try:
        run_jobs()
    finally:
        connection.close()


def _text(page) -> str:
    return page.inner_text("body")


def test_a_managers_day(telegram_bot, fake_telegram, s3_bucket, live_server, operator, page):  # noqa: F811 - the bot before the browser's event loop
    make_requisites()
    load_default_templates()  # a flush-based test lost the data migration's templates
    default_templates_refresh()
    CurrencyRate.objects.create(date=timezone.localdate(), currency="USD", nominal=1, rate="91.11", source="cbr")
    lead = lead_ingest(channel="telegram", external_id="tg:browser", text="Хотим в Анталью в январе, двое",
                       sender={"telegram_id": 880011, "name": "Ольга Новикова", "phone": "+79161112233"}).lead

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", operator.email)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    assert page.locator("h1").first.inner_text().startswith("Сегодня")
    assert lead.number in page.inner_text("#today-leads")

    # The lead: a reply in Telegram, sent by the job queue.
    page.click(f"text={lead.number}")
    assert page.locator("h1").first.inner_text() == "Изменить заявку"
    page.fill("#reply textarea[name=text]", "Здравствуйте, Ольга! Подберём отель на январь.")
    page.click("#reply input[type=submit]")
    assert "ждёт отправки" in page.inner_text("#reply")
    _run_jobs_in_a_thread()
    page.reload()
    assert "отправлено" in page.inner_text("#reply")
    (sent,) = fake_telegram.sent_to(880011)  # the first message to her also carries the consent link
    assert sent["text"].startswith("Здравствуйте, Ольга! Подберём отель на январь.")

    # «Преобразовать в заказ» opens the new order.
    page.click("text=Преобразовать в заказ")
    page.wait_for_url(re.compile(r"/admin/orders/order/\d+/change/"))
    assert "Создан заказ" in _text(page)
    order_url = page.url

    # Services: a USD hotel typed with a decimal comma and a flight.
    start = timezone.localtime() + timedelta(days=5)
    page.click("text=Добавить ещё: услуга")
    page.select_option("#id_services-0-type", "hotel")
    page.fill("#id_services-0-start_dt", start.strftime("%d.%m.%Y 14:00"))
    page.fill("#id_services-0-end_dt", (start + timedelta(days=7)).strftime("%d.%m.%Y 12:00"))
    page.fill("#id_services-0-city", "Анталья")
    page.fill("#id_services-0-price", "1 234,50")
    page.select_option("#id_services-0-currency", "USD")
    page.fill("#id_services-0-rate", "91,11")
    assert page.is_visible("#id_services-0-hotel__hotel_name")  # only the hotel's details are shown
    assert not page.is_visible("#id_services-0-flight__carrier")
    page.fill("#id_services-0-hotel__hotel_name", "Rixos Sungate")
    page.select_option("#id_services-0-hotel__meals", "AI")
    page.click("text=Добавить ещё: услуга")
    page.select_option("#id_services-1-type", "flight")
    page.fill("#id_services-1-start_dt", start.strftime("%d.%m.%Y 07:30"))
    page.fill("#id_services-1-end_dt", start.strftime("%d.%m.%Y 11:45"))
    page.fill("#id_services-1-origin", "SVO")
    page.fill("#id_services-1-destination", "AYT")
    page.fill("#id_services-1-price", "30 000")
    page.fill("#id_services-1-flight__carrier", "SU")
    page.fill("#id_services-1-flight__flight_number", "2136")
    # Two time zones: the departure left on «Авто» (SVO: Moscow), the arrival typed by its Russian name
    # (the box offers the page's one list of every zone).
    assert page.get_attribute("#id_services-1-end_timezone", "list") == "service-zones"
    page.fill("#id_services-1-end_timezone", "Стамбул")
    page.click("input[name=_continue]")
    page.wait_for_load_state()
    body = _text(page)
    assert "Изменения сохранены" in body, body[:2000]
    assert "142\u00a0475,30\u00a0₽" in body  # 1 234,50 × 91,11 + 30 000

    # Saved rows carry their own type's details only (plus the new-row template's copy of each).
    assert page.locator("input[name$='-hotel__hotel_name']").count() == 2
    assert page.locator("input[name$='-flight__carrier']").count() == 2
    assert "Стамбул — Europe/Istanbul" in page.input_value("[name$='-end_timezone'][value*='Istanbul']")
    # A saved row's type changed in the browser: the new type's fields come from the new-row template.
    row = page.locator("input[name$='-hotel__hotel_name']").first.get_attribute("id").split("-")[1]
    page.select_option(f"#id_services-{row}-type", "rail")
    assert page.is_visible(f"#id_services-{row}-rail__train_number")
    assert not page.is_visible(f"#id_services-{row}-hotel__hotel_name")
    page.reload()  # not saved
    flight_service = Lead.objects.get(pk=lead.pk).order.services.get(type="flight")
    assert (flight_service.timezone, flight_service.end_timezone) == ("Europe/Moscow", "Europe/Istanbul")

    # Documents from the order's page: an offer and an invoice at once, back to the order.
    page.click("text=Сформировать документы")
    page.check("input[name=type][value=offer]")
    page.check("input[name=type][value=invoice]")
    page.check("#id_confirm")
    page.click("input[value='Сформировать отмеченные']")
    page.wait_for_url(order_url)
    assert "Сформирован документ «Коммерческое предложение»" in _text(page), _text(page)[:1500]
    order_number = Lead.objects.get(pk=lead.pk).order.number
    assert set(Document.objects.filter(order__number=order_number).values_list("type", flat=True)) == {
        "offer", "invoice"}
    page.goto(order_url)

    # «Сегодня»: the converted lead left the unanswered ones; the departure is in the week's list.
    page.goto(f"{live_server.url}/admin/")
    assert lead.number not in page.inner_text("#today-leads")
    assert order_number in page.inner_text("#today-departures")
