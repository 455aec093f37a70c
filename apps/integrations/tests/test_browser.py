"""One real-browser pass: headless Chromium (Debian's package) fills the form; the lead is in the admin.

Needs the system packages `chromium` (apt-get install -y chromium); Playwright only drives it
(executable_path), it never downloads a browser.
"""

import datetime as dt
import os
import shutil

import pytest
from django.utils import timezone

from conftest import TEST_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def browser_page(monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is not installed: apt-get install -y chromium (see docs/development.md, «Тесты каналов»)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU")  # a phone
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


@pytest.mark.slow
def test_customer_fills_the_form_and_the_lead_shows_in_the_admin(live_server, browser_page, admin_user):
    page = browser_page
    start = timezone.localdate() + dt.timedelta(days=45)
    page.goto(f"{live_server.url}/form/")
    page.fill("#id_name", "Елена Кузнецова")
    page.fill("#id_phone", "+7 926 111-22-33")
    page.fill("#id_email", "elena@example.ru")
    page.fill("#id_wishes", "Хотим на Байкал в августе, 3 человека")
    page.fill("#id_date_from", start.isoformat())
    page.fill("#id_date_to", (start + dt.timedelta(days=7)).isoformat())

    page.click("button[type=submit]")  # no consent yet: the page explains, in Russian
    page.wait_for_load_state()
    assert "Без согласия на обработку персональных данных" in page.content()
    assert page.input_value("#id_name") == "Елена Кузнецова"  # what was typed is kept

    page.check("#id_consent")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    result = page.text_content("#result")
    assert "Ваша заявка № " in result

    page.goto(f"{live_server.url}/admin/login/?next=/admin/leads/lead/")
    page.fill("#id_username", admin_user.email)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/leads/lead/")
    page.wait_for_load_state()
    listing = page.content()
    number = result.split("№ ")[1].split(" ")[0]
    assert number in listing
    page.click(f"text={number}")
    page.wait_for_url("**/change/")
    page.wait_for_load_state()
    assert "Хотим на Байкал в августе" in page.content()
