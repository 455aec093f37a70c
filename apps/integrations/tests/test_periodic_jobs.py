"""Periodic intake jobs: mailbox polling (never two pollers on one mailbox) and inbox retries."""

import pytest
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.integrations.models import InboxItem, InboxStatus
from apps.integrations.tasks import poll_mailboxes, reprocess_inbox
from apps.integrations.tests.test_email import _plain_with_attachment, imap_server, mailbox  # noqa: F401 — fixtures
from apps.jobs.worker import run_jobs
from apps.leads.models import Lead

pytestmark = pytest.mark.django_db(transaction=True)  # a real worker reads committed jobs


def test_every_minute_each_active_mailbox_gets_one_poll(imap_server, mailbox):  # noqa: F811
    imap_server.append(_plain_with_attachment(), folder=mailbox.folder)
    assert poll_mailboxes(timestamp=0) == 1
    # A minute later the first poll has not run yet (a slow or stuck mailbox): no second one waits.
    assert poll_mailboxes(timestamp=60) == 0
    job = ProcrastinateJob.objects.get(task_name="integrations.poll_mailbox")
    assert job.lock == job.queueing_lock == f"mailbox:{mailbox.pk}"  # one session per mailbox at a time
    run_jobs()
    assert Lead.objects.get().contact_email == "maria@example.ru"
    assert InboxItem.objects.get().status == InboxStatus.PROCESSED
    assert poll_mailboxes(timestamp=120) == 1  # the next minute polls again


def test_a_broken_mailbox_is_noted_on_the_mailbox_not_as_a_failed_job(imap_server, mailbox):  # noqa: F811
    type(mailbox).objects.filter(pk=mailbox.pk).update(imap_password="")
    mailbox.imap_password = "wrong-password"
    mailbox.save()
    poll_mailboxes(timestamp=0)
    run_jobs()
    mailbox.refresh_from_db()
    assert mailbox.last_error
    assert not ProcrastinateJob.objects.filter(status="failed").exists()


def test_inbox_retry_is_scheduled_and_finishes_failed_items(telegram_bot):
    item = InboxItem.objects.create(
        channel="web", external_id="w-1", status=InboxStatus.FAILED, attempts=1,
        payload={"name": "Анна", "phone": "+79161234567", "message": "Тур в Казань", "consent": True},
    )
    reprocess_inbox(timestamp=0)
    item.refresh_from_db()
    assert item.attempts == 2
    schedules = {p.periodic_id: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    assert schedules["inbox_retry"] == "*/10 * * * *" and schedules["mail_poll"] == "* * * * *"


def test_inbox_retry_leaves_a_young_pending_item_to_its_request():
    """A pending item is being processed by the request that stored it (which no longer locks it):
    the scheduled retry takes it only once it is older than PENDING_GRACE (its request died)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.integrations.inbox import PENDING_GRACE

    payload = {"name": "Анна", "phone": "+79161234567", "message": "Тур в Казань", "consent": True}
    young = InboxItem.objects.create(channel="web", external_id="w-young", payload=payload)
    stale = InboxItem.objects.create(channel="web", external_id="w-stale", payload=payload)
    InboxItem.objects.filter(pk=stale.pk).update(received_at=timezone.now() - PENDING_GRACE - timedelta(seconds=1))
    reprocess_inbox(timestamp=0)
    young.refresh_from_db()
    stale.refresh_from_db()
    assert young.status == InboxStatus.PENDING and young.attempts == 0
    assert stale.status != InboxStatus.PENDING and stale.attempts == 1, stale.error  # taken and tried
