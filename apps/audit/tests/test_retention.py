"""Retention: purge_personal_data lists and removes what is past its term, and is safe to re-run."""

import datetime as dt
import io
import uuid

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from apps.audit.models import AccessLogEntry
from apps.audit.retention import retention_purge
from apps.audit.tests.conftest import JPEG
from apps.clients.consents import consent_record, consent_text_ensure
from apps.clients.models import Consent
from apps.core.storage import random_key
from apps.leads.models import Lead, LeadAttachment
from apps.leads.services import IncomingAttachment, lead_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_import_prefix(monkeypatch):
    from apps.audit import retention

    monkeypatch.setattr(retention, "IMPORT_PREFIX", PREFIX)
    # Other tests' reply files stay (named by string: audit does not import integrations).
    monkeypatch.setattr("apps.integrations.erasure.REPLY_PREFIX", f"{PREFIX}outbound/")
# This test's own prefix: the bucket is shared with tests running in parallel (the import's own files).
PREFIX = f"imports/pending-test-{uuid.uuid4().hex[:8]}/"
LATER = timezone.now() + dt.timedelta(days=4000)  # everything created now is past every term then


def _world():
    inbox = apps.get_model("integrations", "InboxItem")
    rejected = lead_ingest(channel="telegram", external_id="r-1", sender={"telegram_id": "900"}, text="спам",
                           attachments=[IncomingAttachment("a.jpg", "image/jpeg", JPEG, len(JPEG))]).lead
    Lead.objects.filter(pk=rejected.pk).update(status="rejected", closed_at=timezone.now())
    open_lead = lead_ingest(channel="telegram", external_id="o-1", sender={"telegram_id": "901"}, text="тур").lead
    item = inbox.objects.create(channel="telegram", external_id="x", status="processed", processed_at=timezone.now(),
                                payload={"message": {"text": "мой телефон +79160000000"}}, lead_pk=open_lead.pk)
    consent_record(text=consent_text_ensure(body="v1\n"), channel="telegram", subject_kind="telegram",
                   subject_value="900", lead_id=rejected.pk)
    pending = default_storage.save(random_key(PREFIX.rstrip("/"), ".csv"), ContentFile(b"a;b\n"))
    AccessAttempt.objects.create(username="x@y.ru", ip_address="10.0.0.1", user_agent="ua", get_data="",
                                 post_data="", http_accept="", path_info="/", failures_since_start=3)
    AccessLogEntry.objects.create(client_ids=[1], categories=["phone"], endpoint="/x/", method="GET")
    return {"rejected": rejected, "open": open_lead, "item": item, "pending": pending,
            "attachment": LeadAttachment.objects.get(lead=rejected).file.name}


def test_dry_run_lists_then_purge_removes_then_nothing_more(bucket, django_capture_on_commit_callbacks):
    world = _world()
    counts = {line.category: line.count for line in retention_purge(dry_run=True, now=LATER)}
    assert counts["rejected_leads"] == 1 and counts["inbox_payloads"] >= 1 and counts["lockout_records"] >= 1
    assert counts["access_log"] >= 1 and counts["import_files"] >= 1
    assert Lead.objects.filter(pk=world["rejected"].pk).exists()  # a dry run removes nothing

    with django_capture_on_commit_callbacks(execute=True):
        retention_purge(now=LATER)
    assert not Lead.objects.filter(pk=world["rejected"].pk).exists()
    assert Lead.objects.filter(pk=world["open"].pk).exists()  # open leads are not past any term
    assert not Consent.objects.filter(lead_id=world["rejected"].pk).exists()
    assert apps.get_model("integrations", "InboxItem").objects.get(pk=world["item"].pk).payload is None
    assert not default_storage.exists(world["pending"]) and not default_storage.exists(world["attachment"])
    assert not AccessAttempt.objects.exists() and not AccessLogEntry.objects.exists()
    again = {line.category: line.count for line in retention_purge(now=LATER)}
    assert again["rejected_leads"] == again["inbox_payloads"] == again["access_log"] == 0


def test_nothing_recent_is_purged_and_zero_keeps_forever(bucket, settings):
    world = _world()
    retention_purge()
    assert Lead.objects.filter(pk=world["rejected"].pk).exists() and AccessLogEntry.objects.exists()
    settings.PERSONAL_DATA_RETENTION_DAYS = {**settings.PERSONAL_DATA_RETENTION_DAYS, "access_log": 0}
    assert "access_log" not in {line.category for line in retention_purge(dry_run=True, now=LATER)}
    default_storage.delete(world["pending"])


def test_command_prints_counts(bucket):
    out = io.StringIO()
    call_command("purge_personal_data", "--dry-run", stdout=out)
    assert "будет удалено" in out.getvalue() and "Итого" in out.getvalue()


def test_daily_job_is_scheduled():
    from procrastinate.contrib.django import app

    assert settings.JOB_SCHEDULES["personal_data_purge"]
    assert "audit.purge_personal_data" in app.tasks
