"""Recompute every blind index with the new BLIND_INDEX_KEY — resumable, with progress.

Rotation: set BLIND_INDEX_KEY to the new key and BLIND_INDEX_KEY_OLD to the old one (lookups accept
both meanwhile), run this command (again after an interruption: it resumes where it stopped), then
remove BLIND_INDEX_KEY_OLD. Each batch is one transaction; progress is kept per part and key (for
resuming) and on a JobProgress row (the admin's progress bar: done / total, time left); --background
runs it as a job of the worker instead (the worker must have both keys too).
"""

import argparse

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from apps.audit.models import BlindIndexRotation
from apps.clients.models import ClientContact, ClientPassport, Consent
from apps.clients.normalization import contact_index, normalize_contact, passport_index, passport_normalised
from apps.core.crypto import blind_index_key_fingerprint
from apps.jobs.progress import Reporter, progress_create
from apps.leads.contacts import CONTACT_FIELDS, contact_index_of
from apps.leads.models import Lead, LeadMessage
from apps.leads.search import name_tokens, text_tokens


def _contact(row: ClientContact) -> dict:
    return {"blind_index": contact_index(row.kind, normalize_contact(row.kind, row.value))}


def _passport(row: ClientPassport) -> dict:
    return {"number_index": passport_index(passport_normalised(row.series or "", row.number or ""))}


def _lead(row: Lead) -> dict:
    values = {index_field: contact_index_of(kind, getattr(row, value_field))
              for value_field, index_field, kind in CONTACT_FIELDS}
    return {**values, "name_tokens": name_tokens(row.contact_name)}


def _lead_message(row: LeadMessage) -> dict:
    return {"text_tokens": text_tokens(row.text)}


def _consent(row: Consent) -> dict:
    if not (row.subject_kind and row.subject_value):
        return {}
    return {"subject_index": contact_index(row.subject_kind, normalize_contact(row.subject_kind, row.subject_value))}


# part: (label, model, the fields to recompute, function row -> new values)
PARTS = {
    "client_contacts": ("Контакты клиентов", ClientContact, ["blind_index"], _contact),
    "client_passports": ("Паспорта клиентов", ClientPassport, ["number_index"], _passport),
    "leads": ("Заявки", Lead, [*(index for _, index, _ in CONTACT_FIELDS), "name_tokens"], _lead),
    "lead_messages": ("Сообщения заявок (поиск по словам)", LeadMessage, ["text_tokens"], _lead_message),
    "consents": ("Согласия отправителей", Consent, ["subject_index"], _consent),
}


TITLE = "Пересчёт слепых индексов новым BLIND_INDEX_KEY"


def rotation_total() -> int:
    return sum(model._base_manager.count() for _, model, _, _ in PARTS.values())


class Command(BaseCommand):
    help = "Пересчитать слепые индексы новым BLIND_INDEX_KEY (можно прервать и запустить снова)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--restart", action="store_true", help="Start over instead of resuming.")
        parser.add_argument("--background", action="store_true", help="Run it as a job of the worker.")
        parser.add_argument("--progress-id", type=int, help=argparse.SUPPRESS)  # the job's own row

    def handle(self, *args, batch_size: int, restart: bool, background: bool = False, progress_id=None,
               **options):
        if background:
            from apps.audit.tasks import blind_index_rotation_start

            progress = blind_index_rotation_start(actor=None, restart=restart)
            self.stdout.write(f"Поставлено в очередь: задача {progress.pk} («Ход длительных задач» в админке)")
            return
        reporter = Reporter(progress_id or progress_create(kind="rotate_blind_index", title=TITLE,
                                                           total=rotation_total()).pk)
        reporter.start()
        try:
            done = self._rotate(batch_size, restart, reporter)
        except Exception as error:
            reporter.fail(f"Прервано: {type(error).__name__}. Запустите снова: продолжит с места остановки.",
                          final=True)
            raise
        reporter.succeed({"rows": done, "parts": len(PARTS)})

    def _rotate(self, batch_size: int, restart: bool, reporter: Reporter) -> int:
        fingerprint = blind_index_key_fingerprint()
        total, before = rotation_total(), 0  # `before`: rows of the parts already gone through
        for part, (label, model, fields, compute) in PARTS.items():
            progress, _ = BlindIndexRotation.objects.get_or_create(key_fingerprint=fingerprint, part=part)
            if restart:
                progress.last_pk, progress.done, progress.finished_at = 0, 0, None
                progress.save()
            count = model._base_manager.count()
            if progress.finished_at is not None:
                self.stdout.write(f"{label}: уже пересчитано ({progress.done})")
                before += count
                reporter(before, total)
                continue
            while self._batch(model, fields, compute, progress, batch_size):
                percent = 100 * progress.done // count if count else 100
                self.stdout.write(f"{label}: {progress.done} / {count} ({percent} %)")
                reporter(before + min(progress.done, count), total)
            progress.finished_at = timezone.now()
            progress.save(update_fields=["finished_at", "updated_at"])
            self.stdout.write(f"{label}: готово, {progress.done}")
            before += count
        return before

    @staticmethod
    def _batch(model, fields, compute, progress, batch_size: int) -> bool:
        with transaction.atomic():
            rows = list(model._base_manager.filter(pk__gt=progress.last_pk).order_by("pk")[:batch_size])
            if not rows:
                return False
            changed = []
            for row in rows:
                values = compute(row)
                if any(getattr(row, name) != value for name, value in values.items()):
                    for name, value in values.items():
                        setattr(row, name, value)
                    changed.append(row)
            if changed:
                model._base_manager.bulk_update(changed, fields)
            progress.last_pk = rows[-1].pk
            progress.done += len(rows)
            progress.save(update_fields=["last_pk", "done", "updated_at"])
        return True
