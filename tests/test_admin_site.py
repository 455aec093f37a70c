"""The admin speaks Russian whatever language the browser asks for."""

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
