"""Key rotation shows its progress (issue 15 point 3): rotate_encryption_keys and rotate_blind_index
write a JobProgress (done / total), run inline or, with --background, as a job of the worker."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from apps.clients.models import Client, ClientContact
from apps.clients.selectors import clients_by_contacts
from apps.clients.tests.factories import make_client
from apps.jobs.models import JobProgress, ProgressStatus
from apps.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)  # --background: a real worker reads committed jobs


def _rows_of_encrypted_models() -> int:
    from apps.core.rotation import rotation_total

    return rotation_total()


def test_rotate_encryption_keys_reports_done_of_total(settings):
    client = make_client(birth_date="1990-05-06")
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEY]
    call_command("rotate_encryption_keys", "--batch-size", "2", stdout=io.StringIO())
    progress = JobProgress.objects.get(kind="rotate_encryption_keys")
    total = _rows_of_encrypted_models()
    assert (progress.status, progress.done, progress.total) == (ProgressStatus.SUCCEEDED, total, total)
    assert progress.result == {"rows": total} and progress.finished_at
    settings.FIELD_ENCRYPTION_KEY = settings.FIELD_ENCRYPTION_KEY[:1]
    assert str(Client.objects.get(pk=client.pk).birth_date) == "1990-05-06"


def test_rotate_encryption_keys_in_the_background(settings):
    client = make_client(birth_date="1991-06-07")
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEY]
    out = io.StringIO()
    call_command("rotate_encryption_keys", "--background", stdout=out)
    progress = JobProgress.objects.get(kind="rotate_encryption_keys")
    assert f"задача {progress.pk}" in out.getvalue() and progress.status == ProgressStatus.QUEUED
    assert progress.total == _rows_of_encrypted_models()
    run_jobs()
    progress.refresh_from_db()
    assert progress.status == ProgressStatus.SUCCEEDED and progress.done == progress.total
    settings.FIELD_ENCRYPTION_KEY = settings.FIELD_ENCRYPTION_KEY[:1]
    assert str(Client.objects.get(pk=client.pk).birth_date) == "1991-06-07"


def test_rotate_blind_index_reports_done_of_total_inline_and_in_the_background(settings):
    settings.BLIND_INDEX_KEY = "c3" * 32
    for n in range(3):
        make_client(phones=[f"+7916333{n:04d}"])
    settings.BLIND_INDEX_KEY, settings.BLIND_INDEX_KEY_OLD = "d4" * 32, "c3" * 32
    call_command("rotate_blind_index", "--batch-size", "2", stdout=io.StringIO())
    inline = JobProgress.objects.get(kind="rotate_blind_index")
    assert inline.status == ProgressStatus.SUCCEEDED and inline.done == inline.total >= ClientContact.objects.count()

    settings.BLIND_INDEX_KEY, settings.BLIND_INDEX_KEY_OLD = "e5" * 32, "d4" * 32
    call_command("rotate_blind_index", "--background", stdout=io.StringIO())
    job = JobProgress.objects.filter(kind="rotate_blind_index").exclude(pk=inline.pk).get()
    run_jobs()
    job.refresh_from_db()
    assert job.status == ProgressStatus.SUCCEEDED and job.done == job.total == inline.total
    settings.BLIND_INDEX_KEY_OLD = ""
    assert clients_by_contacts(phones=["+79163330001"])
