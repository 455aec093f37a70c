"""The admin speaks Russian whatever language the browser asks for."""

import re

import pytest


@pytest.mark.django_db
def test_admin_stays_russian_for_an_english_browser(supervisor):
    """Staff browsers often send Accept-Language: en; the admin must still be Russian."""
    from django.test import Client as BrowserClient

    browser = BrowserClient(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    browser.force_login(supervisor)
    page = browser.get("/admin/").content.decode()
    assert "Добро пожаловать" in page or "Выйти" in page
    assert "Log out" not in page and "Welcome," not in page


@pytest.mark.django_db
def test_third_party_sections_have_russian_names(admin_user):
    """auditlog and axes name their admin sections in English; ours are Russian. JWT logout's
    technical token rows are not shown at all."""
    from django.test import Client as BrowserClient

    browser = BrowserClient()
    browser.force_login(admin_user)
    text = re.sub(r"<[^>]+>", " ", browser.get("/admin/").content.decode())  # what the eye sees
    assert "Журнал изменений" in text and "Попытки входа" in text
    for english in ("Audit log", "Axes", "Token Blacklist", "Blacklisted Tokens", "Outstanding Tokens"):
        assert english.lower() not in text.lower()
    assert browser.get("/admin/auditlog/logentry/").status_code == 200
    assert browser.get("/admin/axes/accessattempt/").status_code == 200
    assert browser.get("/admin/token_blacklist/outstandingtoken/").status_code == 404
