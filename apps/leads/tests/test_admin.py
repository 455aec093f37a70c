import pytest
from botocore.exceptions import ClientError
from django.contrib import admin
from django.test import Client as BrowserClient

from apps.accounts.models import Role
from apps.clients.models import Client
from apps.core.storage import ensure_bucket
from apps.leads.services import IncomingAttachment, lead_ingest
from apps.leads.tests.factories import make_client

pytestmark = pytest.mark.django_db


def browser_for(user) -> BrowserClient:
    browser = BrowserClient()
    browser.force_login(user)
    return browser


def test_changelist_filters_and_links_the_client(admin_user):
    client = make_client(phone="+79161234567", last_name="Петров")
    lead = lead_ingest(channel="whatsapp", external_id="1", sender={"whatsapp_id": "79161234567"}).lead
    browser = browser_for(admin_user)
    page = browser.get("/admin/leads/lead/?status__exact=new").content.decode()
    assert lead.number in page
    if admin.site.is_registered(Client):
        assert f"/admin/clients/client/{client.pk}/change/" in page
    assert "Петров" in page
    change = browser.get(f"/admin/leads/lead/{lead.pk}/change/")
    assert change.status_code == 200
    assert "+79161234567" in change.content.decode()


def test_masked_for_staff_without_personal_data_permission(make_user):
    try:
        ensure_bucket()
    except ClientError:
        pass
    lead = lead_ingest(
        channel="web", external_id="1", sender={"phone": "+79161234567"}, text="привет, мой паспорт 4510 123012",
        attachments=[IncomingAttachment("passport_scan.pdf", "application/pdf", b"%PDF-1", 6)],
    ).lead
    accountant = make_user(Role.ACCOUNTANT)
    page = browser_for(accountant).get(f"/admin/leads/lead/{lead.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "+79161234567" not in html and "45-67" in html
    # What the customer wrote or sent is hidden, not guessed at by a mask.
    assert "привет" not in html and "4510" not in html and "passport_scan" not in html and "Signature" not in html
    assert "скрыто: нет права на персональные данные" in html
    operator_page = browser_for(make_user(Role.OPERATOR)).get(f"/admin/leads/lead/{lead.pk}/change/")
    assert "мой паспорт 4510 123012" in operator_page.content.decode()
    assert "passport_scan.pdf" in operator_page.content.decode()


def test_take_action_goes_through_the_service(make_user):
    operator = make_user(Role.OPERATOR)
    lead = lead_ingest(channel="web", external_id="1", sender={"phone": "+79161234567"}).lead
    response = browser_for(operator).post(
        "/admin/leads/lead/", {"action": "take_leads", "_selected_action": [lead.pk]}, follow=True
    )
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.status == "in_progress" and lead.operator == operator


def test_admin_actions_link_the_suggested_client_and_merge_the_duplicate(admin_user):
    client = make_client(phone="+79165550022")
    own = lead_ingest(channel="whatsapp", external_id="wa-1", sender={"whatsapp_id": "79165550022"}).lead
    claimed = lead_ingest(channel="web", external_id="web-1", sender={"phone": "+79165550022"}).lead
    browser = browser_for(admin_user)
    page = browser.get(f"/admin/leads/lead/{claimed.pk}/change/").content.decode()
    assert "возможно, это клиент" in page.lower() and own.number in page
    if admin.site.is_registered(Client):
        assert f"/admin/clients/client/{client.pk}/change/" in page
    changelist = "/admin/leads/lead/"
    browser.post(changelist, {"action": "link_suggested_clients", "_selected_action": [claimed.pk]})
    claimed.refresh_from_db()
    assert claimed.client_id == client.pk and claimed.suggested_client_id is None
    browser.post(changelist, {"action": "merge_into_duplicates", "_selected_action": [claimed.pk]})
    claimed.refresh_from_db()
    assert claimed.status == "rejected" and own.messages.count() == 2


def test_buttons_next_to_the_suggestions_link_and_merge_in_one_click(admin_user, accountant):
    client = make_client(phone="+79165550033")
    own = lead_ingest(channel="whatsapp", external_id="wa-2", sender={"whatsapp_id": "79165550033"}).lead
    claimed = lead_ingest(channel="web", external_id="web-2", sender={"phone": "+79165550033"}).lead
    browser = browser_for(admin_user)
    page = browser.get(f"/admin/leads/lead/{claimed.pk}/change/").content.decode()
    assert f'formaction="/admin/leads/lead/{claimed.pk}/link-client/"' in page
    assert f'formaction="/admin/leads/lead/{claimed.pk}/merge-into/"' in page
    # a role that may only look gets neither the buttons nor the URLs
    viewer = browser_for(accountant)
    viewer_page = viewer.get(f"/admin/leads/lead/{claimed.pk}/change/")
    assert viewer_page.status_code in (200, 403) and "formaction" not in viewer_page.content.decode()
    assert viewer.post(f"/admin/leads/lead/{claimed.pk}/link-client/").status_code == 403
    assert browser.get(f"/admin/leads/lead/{claimed.pk}/link-client/").status_code == 302  # GET changes nothing
    claimed.refresh_from_db()
    assert claimed.client_id is None
    assert browser.post(f"/admin/leads/lead/{claimed.pk}/link-client/").status_code == 302
    claimed.refresh_from_db()
    assert claimed.client_id == client.pk and claimed.suggested_client_id is None
    merged = browser.post(f"/admin/leads/lead/{claimed.pk}/merge-into/")
    assert merged.status_code == 302 and merged["Location"] == f"/admin/leads/lead/{own.pk}/change/"
    claimed.refresh_from_db()
    assert claimed.status == "rejected" and own.messages.count() == 2
    closed_page = browser.get(f"/admin/leads/lead/{claimed.pk}/change/").content.decode()
    assert "formaction" not in closed_page  # a closed lead offers nothing to do
