"""Each statement of apps/integrations/queries.py gives what its ORM equivalent gives, on the same data."""

import pytest
from django.db import transaction
from django.utils import timezone

from apps.integrations import queries
from apps.integrations.models import InboxItem, IntegrationSettings, OutboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    return IntegrationSettings.objects.create(
        type="email", purpose="sales", imap_host="imap.test", imap_user="sales", is_active=True
    )


def _item(integration=None, external_id="u-1") -> InboxItem:
    return InboxItem(
        channel="email", integration=integration, external_id=external_id,
        payload={"text": "Хотим в Анталью", "n": 1}, received_at=timezone.now(),
    )  # fmt: skip


def test_integration_active_is_the_orms_filter(integration):
    raw = queries.integration_active(integration.pk, "email")
    orm = IntegrationSettings.objects.filter(pk=integration.pk, type="email", is_active=True).first()
    for field in IntegrationSettings._meta.concrete_fields:
        assert getattr(raw, field.attname) == getattr(orm, field.attname), field.name
    assert not raw._state.adding
    assert queries.integration_active(integration.pk, "telegram") is None
    IntegrationSettings.objects.filter(pk=integration.pk).update(is_active=False)
    assert queries.integration_active(integration.pk, "email") is None


def test_inbox_insert_stores_what_save_stores_and_refuses_a_duplicate(integration):
    raw, orm = _item(integration, "u-1"), _item(integration, "u-2")
    raw.pk = queries.inbox_insert(raw)
    orm.save()
    columns = [f.attname for f in InboxItem._meta.concrete_fields if f.attname not in ("id", "external_id")]
    stored = {item.external_id: item for item in InboxItem.objects.filter(pk__in=[raw.pk, orm.pk])}
    for name in columns:
        if name != "received_at":
            assert getattr(stored["u-1"], name) == getattr(stored["u-2"], name), name
    assert stored["u-1"].received_at == raw.received_at
    with transaction.atomic():  # inside a transaction the refused insert leaves it usable
        assert queries.inbox_insert(_item(integration, "u-1")) is None
        assert InboxItem.objects.filter(external_id="u-1").count() == 1
    assert queries.inbox_insert(_item(None, "u-1")) is not None  # without an integration: another key


def test_inbox_lock_reads_what_select_for_update_reads(integration):
    item = _item(integration)
    item.save()
    with transaction.atomic():
        raw = queries.inbox_lock(item.pk)
        orm = InboxItem.objects.select_for_update(skip_locked=True).values_list("status", "attempts").get(pk=item.pk)
        assert raw == orm
        assert queries.inbox_lock(999_999_999) is None


def test_inbox_save_done_writes_what_save_update_fields_writes(integration):
    raw, orm = _item(integration, "d-1"), _item(integration, "d-2")
    raw.save()
    orm.save()
    for item in (raw, orm):
        item.status, item.attempts, item.processed_at = "processed", 3, timezone.now()
        item.error, item.lead_pk, item.lead_number = "заметка", 42, "L-42"
    queries.inbox_save_done(raw)
    orm.save(update_fields=list(queries.INBOX_DONE_FIELDS))
    values = InboxItem.objects.values(*queries.INBOX_DONE_FIELDS)
    first, second = values.get(pk=raw.pk), values.get(pk=orm.pk)
    assert first.pop("processed_at") == raw.processed_at and second.pop("processed_at") == orm.processed_at
    assert first == second


def test_outbound_claim_pending_is_the_orms_update_and_select(integration):
    from apps.integrations.models import OutboundMessage

    message = OutboundMessage.objects.create(
        channel="email", integration=integration, key="q:1", chat_id="s***@example.com", text="Добрый день",
        buttons=[{"text": "Да", "data": "yes"}], attachments=[{"key": "k", "name": "a.pdf"}],
        meta={"to": "x@example.com"},
    )
    now = timezone.now()
    claimed = queries.outbound_claim_pending(message.pk, now)
    assert claimed is not None
    fields, raw_integration = claimed
    orm = OutboundMessage.objects.select_related("integration").get(pk=message.pk)
    assert orm.status == "sending" and orm.attempts == 1 and orm.attempt_started_at == now
    for name in queries.OUTBOUND_CLAIM_FIELDS:
        assert fields[name] == getattr(orm, name), name
    for field in IntegrationSettings._meta.concrete_fields:
        assert getattr(raw_integration, field.attname) == getattr(orm.integration, field.attname), field.name
    assert queries.outbound_claim_pending(message.pk, now) is None  # not pending any more: no second claim


def _reply(integration, key: str) -> OutboundMessage:
    return OutboundMessage(
        channel="telegram", integration=integration, key=key, chat_id="4242", text="Ваша заявка № L-000001 получена.",
        lead_pk=7, buttons=[{"text": "Даю согласие", "data": "consent:7"}],
    )


def test_outbound_insert_deferring_writes_the_row_save_writes_and_the_job_defer_writes(integration):
    from procrastinate.contrib.django.models import ProcrastinateJob

    from apps.integrations.outbound import send_job
    from apps.integrations.tasks import send_outbound

    message = _reply(integration, "telegram:reply:1")
    pk = queries.outbound_insert_deferring(message, send_job())
    orm = _reply(integration, "telegram:reply:2")
    orm.save()
    stored = {m.key: m for m in OutboundMessage.objects.filter(pk__in=[pk, orm.pk])}
    for field in OutboundMessage._meta.concrete_fields:
        if field.attname not in ("id", "key", "created_at"):
            assert getattr(stored["telegram:reply:1"], field.attname) == getattr(orm, field.attname), field.name
    assert stored["telegram:reply:1"].created_at is not None

    send_outbound.defer(message_id=pk)  # Procrastinate's own defer, for comparison
    ours, theirs = ProcrastinateJob.objects.filter(args={"message_id": pk}).order_by("id")
    for name in ("queue_name", "task_name", "priority", "lock", "queueing_lock", "args", "status", "scheduled_at",
                 "attempts"):
        assert getattr(ours, name) == getattr(theirs, name), name


def test_outbound_insert_deferring_an_existing_key_writes_no_row_and_no_job(integration):
    from procrastinate.contrib.django.models import ProcrastinateJob

    from apps.integrations.outbound import send_job

    assert queries.outbound_insert_deferring(_reply(integration, "k-1"), send_job()) is not None
    jobs = ProcrastinateJob.objects.count()
    assert queries.outbound_insert_deferring(_reply(integration, "k-1"), send_job()) is None
    assert OutboundMessage.objects.filter(key="k-1").count() == 1
    assert ProcrastinateJob.objects.count() == jobs


@pytest.mark.parametrize("bot_active", [True, False])
@pytest.mark.parametrize("chat_id", ["", "123456"])
@pytest.mark.parametrize("user_active", [True, False])
def test_notices_possible_is_the_orms_exists(bot_active, chat_id, user_active):
    from django.db.models import Exists

    from apps.accounts.models import Role, User

    IntegrationSettings.objects.create(type="telegram", purpose="operators", bot_name="ops", is_active=bot_active)
    IntegrationSettings.objects.create(type="telegram", purpose="sales", bot_name="sales", is_active=True)
    User.objects.create_user(email="m@example.ru", password="x-Password-1", role=Role.OPERATOR,
                             telegram_chat_id=chat_id, is_active=user_active)
    recipients = User.objects.filter(is_active=True).exclude(telegram_chat_id="")
    orm = IntegrationSettings.objects.filter(
        Exists(recipients), type="telegram", purpose="operators", is_active=True
    ).exists()
    assert queries.notices_possible("telegram", "operators") is orm
    assert orm is (bot_active and bool(chat_id) and user_active)
