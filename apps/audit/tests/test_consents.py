"""Consents (152-FZ): paper consent with its scan, the card shows them, withdrawal, the PDF to sign."""

import hashlib
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.tests.conftest import JPEG, PDF
from apps.clients.consents import consent_record, consent_text_ensure
from apps.clients.models import Consent, ConsentText
from apps.clients.tests.factories import make_client
from apps.documents.consent import consent_text_body
from apps.documents.demo import ensure_requisites

pytestmark = pytest.mark.django_db


def _scan(content=PDF, name="consent.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_consent_text_names_the_operator_and_is_stored_with_its_hash():
    requisites = ensure_requisites()
    body = consent_text_body()
    for words in (requisites.legal_name, requisites.inn, requisites.address, "трансграничная", "туроператорам",
                  "отозвано", "Срок действия", "рекламной"):
        assert words in body, words
    text = consent_text_ensure(body=body)
    assert text.sha256 == hashlib.sha256(body.encode()).hexdigest()
    assert consent_text_ensure(body=body) == text  # one row per distinct text


def test_paper_consent_with_scan_then_card_then_withdraw(operator_api, operator, bucket):
    ensure_requisites()
    client = make_client()
    url = f"/api/v1/clients/{client.pk}/consents/"
    response = operator_api.post(url, {"purposes": ["contract", "transfer", "marketing"], "scan": _scan()},
                                 format="multipart")
    assert response.status_code == 201, response.content
    consent = Consent.objects.get(pk=response.json()["id"])
    assert consent.channel == "paper" and consent.recorded_by == operator and consent.scan
    assert sorted(consent.purposes) == ["contract", "marketing", "transfer"]
    assert ConsentText.objects.get(pk=consent.text_id).body == consent_text_body()

    card = operator_api.get(f"/api/v1/clients/{client.pk}/").json()
    assert [c["id"] for c in card["consents"]] == [consent.pk] and card["consents"][0]["is_active"]

    withdrawn = operator_api.post(f"{url}{consent.pk}/withdraw/")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["anonymize"]["url"] == f"/api/v1/clients/{client.pk}/anonymize/"
    assert withdrawn.json()["consent"]["withdrawn_at"]
    again = operator_api.post(f"{url}{consent.pk}/withdraw/")
    assert again.status_code == 409 and again.json()["code"] == "consent_already_withdrawn"


def test_paper_consent_bad_input(operator_api, accountant_api, bucket):
    client = make_client()
    url = f"/api/v1/clients/{client.pk}/consents/"
    assert operator_api.post(url, {"purposes": ["contract"]}, format="multipart").status_code == 400
    fake = operator_api.post(url, {"scan": _scan(b"not a pdf", "x.pdf")}, format="multipart")
    assert fake.status_code == 400 and "scan" in fake.json()["fields"]
    wrong = operator_api.post(url, {"purposes": ["spam"], "scan": _scan()}, format="multipart")
    assert wrong.status_code == 400
    assert accountant_api.post(url, {"scan": _scan()}, format="multipart").status_code == 403
    assert operator_api.get("/api/v1/clients/99999999/consents/").status_code == 404
    assert not Consent.objects.exists()


def test_a_senders_consent_shows_on_the_client_card(operator_api):
    client = make_client(telegram=["555001"])
    text = consent_text_ensure(body="Текст согласия v1\n")
    consent = consent_record(text=text, channel="telegram", subject_kind="telegram", subject_value="555001",
                             lead_id=42, evidence_message_id="tg:555001:17")
    card = operator_api.get(f"/api/v1/clients/{client.pk}/").json()
    assert [c["id"] for c in card["consents"]] == [consent.pk]
    other = make_client()
    assert operator_api.get(f"/api/v1/clients/{other.pk}/").json()["consents"] == []


def test_accountant_sees_consents_with_masked_evidence(accountant_api):
    client = make_client()
    text = consent_text_ensure(body="Текст согласия v2\n")
    consent_record(text=text, channel="web", client=client, evidence_ip="10.9.8.7", evidence_user_agent="Firefox")
    (shown,) = accountant_api.get(f"/api/v1/clients/{client.pk}/consents/").json()
    assert shown["evidence"]["ip"] == "***" and shown["evidence"]["user_agent"] == "***"


def test_consent_pdf_for_signing(operator_api, accountant_api, tmp_path):
    requisites = ensure_requisites()
    client = make_client(last_name="Петрова", first_name="Анна")
    response = operator_api.get(f"/api/v1/clients/{client.pk}/consent-pdf/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    pdf = tmp_path / "consent.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603,S607
    flat = " ".join(text.split())
    for words in ("Согласие на обработку персональных данных", "Петрова Анна", requisites.inn, "SHA-256"):
        assert words in flat, words
    assert accountant_api.get(f"/api/v1/clients/{client.pk}/consent-pdf/").status_code == 403


def test_jpeg_scan_is_accepted(operator_api, bucket):
    client = make_client()
    response = operator_api.post(f"/api/v1/clients/{client.pk}/consents/",
                                 {"scan": _scan(JPEG, "scan.jpg", "image/jpeg")}, format="multipart")
    assert response.status_code == 201
    assert sorted(response.json()["purposes"]) == ["contract", "transfer"]


def test_admin_paper_consent_then_card_then_withdraw(admin_user, bucket):
    from django.test import Client as BrowserClient

    ensure_requisites()
    client = make_client()
    browser = BrowserClient()
    browser.force_login(admin_user)
    assert browser.get("/admin/clients/consent/add/").status_code == 200
    response = browser.post("/admin/clients/consent/add/", {
        "client": client.pk, "purposes": ["contract", "transfer"], "given_at_0": "01.12.2026", "given_at_1": "10:00",
        "scan_upload": _scan(),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    consent = Consent.objects.get(client=client)
    assert consent.channel == "paper" and consent.recorded_by == admin_user
    card = browser.get(f"/admin/clients/client/{client.pk}/change/").content.decode()
    assert "Согласия на обработку ПДн" in card and "На бумаге" in card
    pdf = browser.get(f"/admin/clients/consent/pdf/{client.pk}/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    browser.post("/admin/clients/consent/", {"action": "withdraw_consents", "_selected_action": [consent.pk]})
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None


def test_the_web_consent_shows_on_the_client_card_and_in_the_subject_export(client):
    """Issue 14: the web form writes to the same registry as the other channels."""
    import datetime as dt

    from django.utils import timezone

    from apps.audit.services import subject_data
    from apps.clients.consents import consents_of_client

    person = make_client(phones=["+79165554433"])
    start = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    client.post("/form/", {"name": "Ольга", "phone": "8 (916) 555-44-33", "date_from": start, "consent": "on"},
                REMOTE_ADDR="203.0.113.7")
    consent = Consent.objects.get()
    assert list(consents_of_client(person.pk)) == [consent]
    assert [c["channel"] for c in subject_data(person)["consents"]] == ["web"]
