"""Demo data of the channels is idempotent and its failed item can be retried into a lead."""

import io

import pytest

from apps.clients.models import Consent
from apps.integrations import demo
from apps.integrations.inbox import inbox_reprocess
from apps.integrations.models import InboxItem, InboxStatus, IntegrationSettings
from apps.leads.models import Lead

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_the_failed_item_retries():
    demo.load_demo(io.StringIO())
    demo.load_demo(io.StringIO())
    assert IntegrationSettings.objects.count() == 2
    assert not any(bot.has_token for bot in IntegrationSettings.objects.all())
    assert InboxItem.objects.count() == 2
    assert Lead.objects.count() == 1
    assert inbox_reprocess() == {InboxStatus.PROCESSED: 1}
    assert Lead.objects.count() == 2
    assert Consent.objects.count() == 2


def test_reprocess_skips_items_that_failed_too_often_unless_named():
    demo.load_demo(io.StringIO())
    failed = InboxItem.objects.get(status=InboxStatus.FAILED)
    InboxItem.objects.filter(pk=failed.pk).update(attempts=20)
    out = io.StringIO()
    from django.core.management import call_command

    call_command("reprocess_inbox", stdout=out)
    assert "nothing to do" in out.getvalue()
    call_command("reprocess_inbox", "--id", str(failed.pk), stdout=out)
    failed.refresh_from_db()
    assert failed.status == InboxStatus.PROCESSED
