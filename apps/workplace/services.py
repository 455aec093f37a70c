"""Writes of the workplace: reminders."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import BusinessError
from apps.workplace.models import Reminder

REMINDER_FIELDS = ("owner", "due_at", "text", "lead", "client", "order")


@transaction.atomic
def reminder_create(*, data: dict, actor: User) -> Reminder:
    reminder = Reminder(created_by=actor)
    for key in REMINDER_FIELDS:
        if key in data:
            setattr(reminder, key, data[key])
    if reminder.owner_id is None:
        reminder.owner = actor
    _check(reminder)
    reminder.save()
    return reminder


@transaction.atomic
def reminder_update(*, reminder: Reminder, data: dict, actor: User) -> Reminder:
    for key in REMINDER_FIELDS:
        if key in data:
            setattr(reminder, key, data[key])
    _check(reminder)
    reminder.save()
    return reminder


@transaction.atomic
def reminder_close(*, reminder: Reminder, actor: User) -> Reminder:
    if reminder.done_at is not None:
        raise BusinessError("Напоминание уже закрыто.", code="reminder_closed")
    reminder.done_at = timezone.now()
    reminder.save(update_fields=["done_at"])
    return reminder


def _check(reminder: Reminder) -> None:
    if not (reminder.text or "").strip():
        raise ValidationError({"text": ["Напишите, что сделать."]})
    reminder.full_clean()
