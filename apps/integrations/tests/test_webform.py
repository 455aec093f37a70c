"""The public web form /form/ and POST /api/v1/public/leads/: consent, honeypot, rate limit, CORS."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.clients.models import Consent
from apps.documents.consent import current_consent_text
from apps.integrations.models import InboxItem
from apps.leads.models import Lead

pytestmark = pytest.mark.django_db
API = "/api/v1/public/leads/"


def _form(**extra):
    start = timezone.localdate() + dt.timedelta(days=30)
    data = {
        "name": "Ольга Смирнова",
        "phone": "8 (916) 555-44-33",
        "email": "Olga@Example.ru",
        "wishes": "Море, всё включено, 2 взрослых и ребёнок",
        "date_from": start.isoformat(),
        "date_to": (start + dt.timedelta(days=10)).isoformat(),
        "consent": "on",
        "website": "",
    }
    data.update(extra)
    return {key: value for key, value in data.items() if value is not None}


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_form_page_is_russian_mobile_friendly_and_framed_by_this_site_only(client):
    response = client.get("/form/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Заявка на поездку" in html
    assert 'name="viewport"' in html
    assert 'href="/form/consent/"' in html
    policy = _policy(response)
    assert policy["frame-ancestors"] == ["'self'"] and response.headers["X-Frame-Options"] == "SAMEORIGIN"
    # the inline <style> runs by its nonce; no script at all
    nonce = next(value for value in policy["style-src"] if value.startswith("'nonce-"))[7:-1]
    assert f'<style nonce="{nonce}">' in html and policy["default-src"] == ["'none'"]
    consent = client.get("/form/consent/")
    assert consent.status_code == 200 and _policy(consent)["frame-ancestors"] == ["'self'"]


def test_frame_ancestors_from_settings(client, settings):
    settings.WEBFORM_FRAME_ANCESTORS = ["https://agency.example", "https://tours.agency.example"]
    response = client.get("/form/")
    assert _policy(response)["frame-ancestors"] == ["'self'", "https://agency.example", "https://tours.agency.example"]
    assert "X-Frame-Options" not in response.headers  # it cannot name origins; the CSP does
    posted = client.post("/form/", _form(phone="12"))
    assert posted.status_code == 400 and "https://agency.example" in posted.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/admin/login/", "/api/v1/auth/me/", "/api/docs/", "/api/v1/leads/", "/nowhere/"])
def test_every_other_page_refuses_to_be_framed(client, path, settings):
    settings.WEBFORM_FRAME_ANCESTORS = ["https://agency.example"]
    response = client.get(path)
    assert response.headers["X-Frame-Options"] == "DENY", (path, response.status_code)


def test_submitting_the_form_makes_a_lead_with_consent(client):
    response = client.post("/form/", _form(), REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/140.0")
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert f"Ваша заявка № {lead.number} получена" in response.content.decode()
    assert lead.source == "web"
    assert lead.contact_phone == "+79165554433"
    assert lead.contact_email == "olga@example.ru"
    assert "Море, всё включено" in lead.messages.get().text
    consent = Consent.objects.get()  # the clients' registry, like every other channel's consents
    text = current_consent_text()
    assert (consent.text_id, consent.text.sha256, consent.channel, consent.lead_id) == (
        text.pk, text.sha256, "web", lead.pk)
    assert (consent.evidence_ip, consent.evidence_user_agent) == ("203.0.113.7", "Firefox/140.0")
    assert consent.evidence_message_id == InboxItem.objects.get().external_id
    assert consent.purposes == ["contract", "transfer"] and consent.withdrawn_at is None
    assert (consent.subject_kind, consent.subject_value) == ("phone", "+79165554433")
    assert abs(consent.given_at - timezone.now()) < dt.timedelta(minutes=1)


def test_the_consent_page_shows_the_text_the_submission_records(client):
    page = client.get("/form/consent/").content.decode()
    text = current_consent_text()
    assert text.version in page and text.sha256 in page
    assert text.body.splitlines()[0] in page


@pytest.mark.parametrize(
    "extra,field,message",
    [
        ({"consent": None}, "consent", "Без согласия на обработку персональных данных"),
        ({"phone": "", "email": ""}, "phone", "Укажите телефон или электронную почту"),
        ({"phone": "12"}, "phone", "Укажите телефон в формате"),
        ({"email": "not-an-email"}, "email", "Введите правильный адрес электронной почты"),
        ({"name": "   "}, "name", "Обязательное поле"),
        ({"date_to": "2020-01-01"}, "date_to", "Дата окончания раньше даты начала"),
    ],
)
def test_invalid_input_is_shown_in_russian_and_nothing_is_saved(client, extra, field, message):
    response = client.post("/form/", _form(**extra))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'value="Ольга Смирнова"' in response.content.decode() or field == "name"  # input kept
    assert InboxItem.objects.count() == 0
    assert Lead.objects.count() == 0
    assert Consent.objects.count() == 0


def test_honeypot_pretends_success_and_stores_nothing(client):
    response = client.post("/form/", _form(website="http://spam.example"))
    assert response.status_code == 200
    assert "Ваша заявка получена" in response.content.decode()
    assert InboxItem.objects.count() == 0
    assert Lead.objects.count() == 0


def test_rate_limit_per_ip(client, settings):
    settings.WEBFORM_RATE_LIMIT = "2/hour"
    for _ in range(2):
        assert client.post("/form/", _form(), REMOTE_ADDR="198.51.100.1").status_code == 200
    assert client.post("/form/", _form(), REMOTE_ADDR="198.51.100.1").status_code == 429
    assert client.post("/form/", _form(), REMOTE_ADDR="198.51.100.2").status_code == 200
    assert InboxItem.objects.count() == 3  # the refused one stored nothing
    # a phone typed into a form is only claimed: each submission is its own lead, the first one hinted at
    first, *later = Lead.objects.order_by("pk")
    assert len(later) == 2 and all(lead.possible_duplicate_of_id == first.pk for lead in later)


def test_forged_x_forwarded_for_does_not_escape_the_limit(client, settings):
    settings.WEBFORM_RATE_LIMIT = "1/hour"
    assert client.post("/form/", _form(), REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    forged = client.post("/form/", _form(), REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="2.2.2.2")
    assert forged.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, settings):
    settings.WEBFORM_RATE_LIMIT = "1/hour"
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    proxy = "10.0.0.2"
    assert (
        client.post("/form/", _form(), REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5").status_code
        == 200
    )
    assert client.post("/form/", _form(), REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200
    assert (
        client.post("/form/", _form(), REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="7.7.7.7, 203.0.113.5").status_code
        == 429
    )
    assert Consent.objects.filter(evidence_ip="203.0.113.5").count() == 1


def test_json_endpoint_with_cors(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://agency.example"]
    body = _form(consent=True)
    response = api_client.post(API, body, format="json", HTTP_ORIGIN="https://agency.example")
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert response.json() == {"status": "accepted", "number": lead.number}
    assert response.headers["Access-Control-Allow-Origin"] == "https://agency.example"
    preflight = api_client.options(API, HTTP_ORIGIN="https://agency.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://agency.example"
    other = api_client.post(
        API, _form(consent=True, email="x@example.ru"), format="json", HTTP_ORIGIN="https://evil.example"
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_json_endpoint_errors_use_the_error_format(api_client):
    response = api_client.post(API, _form(consent=False, phone="12"), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["fields"]) == {"consent", "phone"}
    assert Lead.objects.count() == 0
    assert api_client.post(API, "[1, 2]", content_type="application/json").status_code == 400
    assert api_client.post(API, "{bad json", content_type="application/json").status_code == 400


def test_json_endpoint_size_limit_and_rate_limit(api_client, settings):
    too_big = api_client.post(API, _form(consent=True, wishes="а" * 40_000), format="json")
    assert too_big.status_code == 413
    cache.clear()
    settings.WEBFORM_RATE_LIMIT = "1/minute"
    assert api_client.post(API, _form(consent=True), format="json").status_code == 201
    limited = api_client.post(API, _form(consent=True), format="json")
    assert limited.status_code == 429
    assert limited.json()["code"] == "throttled"
    assert "Retry-After" in limited.headers


def test_wishes_over_the_limit_are_refused(api_client):
    response = api_client.post(API, _form(consent=True, wishes="б" * 5001), format="json")
    assert response.status_code == 400
    assert "wishes" in response.json()["fields"]


def test_invalid_submissions_do_not_count_against_the_limit(client, api_client, settings):
    """A customer behind a shared address who mistypes the phone can correct it and send again."""
    settings.WEBFORM_RATE_LIMIT = "1/hour"
    for _ in range(5):
        assert client.post("/form/", _form(phone="12"), REMOTE_ADDR="198.51.100.20").status_code == 400
        assert api_client.post(API, _form(consent="no"), format="json", REMOTE_ADDR="198.51.100.20").status_code == 400
    assert client.post("/form/", _form(), REMOTE_ADDR="198.51.100.20").status_code == 200
    assert client.post("/form/", _form(), REMOTE_ADDR="198.51.100.20").status_code == 429
    assert api_client.post(API, _form(consent=True), format="json", REMOTE_ADDR="198.51.100.20").status_code == 429
    assert Lead.objects.count() == 1


@pytest.mark.parametrize("consent", ["no", "0", "off", "false", "true", "on", "yes", 1, 0, None, False])
def test_json_consent_is_only_the_literal_true(api_client, consent):
    response = api_client.post(API, _form(consent=consent), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error" and "consent" in body["fields"]
    assert "согласи" in body["fields"]["consent"][0].lower()
    assert Lead.objects.count() == 0 and InboxItem.objects.count() == 0 and Consent.objects.count() == 0


@pytest.mark.parametrize("consent", ["no", "0", "off", "false", "True", ""])
def test_html_consent_is_only_the_checkbox(client, consent):
    response = client.post("/form/", _form(consent=consent))
    assert response.status_code == 400
    assert "Без согласия на обработку персональных данных" in response.content.decode()
    assert Lead.objects.count() == 0 and InboxItem.objects.count() == 0 and Consent.objects.count() == 0


@pytest.mark.django_db
def test_api_refuses_values_that_are_not_text_by_name(api_client):
    """Found by schemathesis: `"date_to": true` reached Django's DateField, which called .strip() (500)."""
    from apps.leads.models import Lead

    body = {"name": "Анна", "phone": "+79161234567", "consent": True, "date_to": True, "wishes": {"a": 1},
            "email": 5}
    response = api_client.post(API, body, format="json")
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert fields["date_to"] == fields["wishes"] == fields["email"] == ["Ожидается текст."]
    assert not Lead.objects.exists()
