"""Backups: the full round trip (backup → empty database and bucket → restore → every row and
every object compared byte for byte, personal data still decrypts) and every refusal."""

import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import psycopg.sql
import pyrage
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from apps.clients.models import Client, ClientFile, ClientPassport
from apps.clients.services import client_file_add
from apps.core.storage import s3_client
from apps.documents.models import Document
from apps.finance.models import Payment
from apps.jobs.backup import BackupError, Destination, backup_create, retention_keep
from apps.leads.models import LeadAttachment
from apps.leads.services import lead_ingest
from apps.orders.models import Order

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]  # pg_dump reads committed data
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _bucket(name: str) -> str:
    s3_client().create_bucket(Bucket=name)
    return name


def _drop_bucket(name: str) -> None:
    client = s3_client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=name, Key=obj["Key"])
    client.delete_bucket(Bucket=name)


def _objects(bucket: str) -> dict[str, bytes]:
    client = s3_client()
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


@pytest.fixture
def own_bucket(settings):
    """This test's own data bucket, so the backup holds exactly the objects the test made."""
    name = _bucket(f"{settings.S3_BUCKET}-bk-{uuid.uuid4().hex[:8]}")
    storages = {**settings.STORAGES}
    storages["default"] = {**storages["default"], "OPTIONS": {**storages["default"]["OPTIONS"], "bucket_name": name}}
    settings.STORAGES, settings.S3_BUCKET = storages, name
    yield name
    _drop_bucket(name)


@pytest.fixture
def age_key(tmp_path, settings):
    identity = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "key.txt"
    key_file.write_text(f"# created for the test\n{identity}\n")
    settings.BACKUP_AGE_RECIPIENTS = [str(identity.to_public())]
    return key_file


@pytest.fixture
def empty_target():
    """An empty database and an empty bucket to restore into (the drill's «new server»)."""
    name = f"{connection.settings_dict['NAME']}_restore"
    admin = _admin_connection()
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    bucket = _bucket(f"{settings.S3_BUCKET}-restore-{uuid.uuid4().hex[:8]}")
    yield name, bucket
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
    _drop_bucket(bucket)


def _admin_connection():
    params = connection.get_connection_params()
    params = {k: v for k, v in params.items() if k in {"host", "port", "user", "password"}}
    return psycopg.connect(dbname="postgres", autocommit=True, **params)


def _database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{name}"


def _manage(*args, database: str, bucket: str, **env):
    environment = {**os.environ, "DATABASE_URL": _database_url(database), "S3_BUCKET": bucket, "DEBUG": "true", **env}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=600)


def _tables(dbname: str) -> dict[str, bytes]:
    """Every row of every table, as PostgreSQL's own text form, in a stable order."""
    params = {k: v for k, v in connection.get_connection_params().items() if k in {"host", "port", "user", "password"}}
    with psycopg.connect(dbname=dbname, **params) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").fetchall()]
        dump = {}
        for table in tables:
            buffer = io.BytesIO()
            query = psycopg.sql.SQL("COPY (SELECT * FROM {} t ORDER BY t::text) TO STDOUT").format(
                psycopg.sql.Identifier(table)
            )
            with conn.cursor().copy(query) as copy:
                for chunk in copy:
                    buffer.write(chunk)
            dump[table] = buffer.getvalue()
        return dump


def _data_of_every_kind(make_user) -> dict:
    call_command("load_demo_data", stdout=io.StringIO())  # clients, passports, leads, orders, payments, documents
    client = Client.objects.filter(passports__isnull=False).first()
    scan = SimpleUploadedFile("скан паспорта.pdf", PDF, content_type="application/pdf")
    client_file_add(client=client, uploaded=scan, description="скан")
    lead_ingest(
        channel="web", external_id=f"bk-{uuid.uuid4().hex}", sender={"name": "Ольга", "phone": "+79160000001"},
        text="Хотим в Сочи", attachments=[_attachment()],
    )
    counts = {
        "clients": Client.objects.count(), "passports": ClientPassport.objects.count(),
        "scans": ClientFile.objects.count(), "lead files": LeadAttachment.objects.exclude(file="").count(),
        "orders": Order.objects.count(), "payments": Payment.objects.count(),
        "documents": Document.objects.count(),
    }
    assert all(counts.values()), counts  # the round trip covers every kind
    return counts


def _attachment():
    from apps.leads.services import IncomingAttachment

    return IncomingAttachment(name="билеты.pdf", content_type="application/pdf", content=PDF, size=len(PDF))


def test_backup_then_restore_into_an_empty_database_and_bucket_gives_everything_back(
    own_bucket, age_key, empty_target, tmp_path, make_user
):
    _data_of_every_kind(make_user)
    passport = ClientPassport.objects.first()
    result = backup_create(destination=Destination(directory=str(tmp_path / "backups")))
    archive = tmp_path / "backups" / result.name
    assert archive.exists() and result.objects == len(_objects(own_bucket)) and result.rows > 0
    assert PDF not in archive.read_bytes()  # encrypted, not merely packed

    target_db, target_bucket = empty_target
    restored = _manage("restore", str(archive), "--identity", str(age_key), database=target_db, bucket=target_bucket)
    assert restored.returncode == 0, restored.stderr[-2000:]
    assert "сверены" in restored.stdout

    source_rows, target_rows = _tables(connection.settings_dict["NAME"]), _tables(target_db)
    assert source_rows.keys() == target_rows.keys()
    for table in source_rows:
        assert source_rows[table] == target_rows[table], f"{table} differs after the restore"
    assert _objects(own_bucket) == _objects(target_bucket)  # every object, byte for byte

    # Personal data decrypts on the restored copy with the keys from the environment.
    probe = (
        "import django; django.setup()\n"
        "from apps.clients.models import ClientPassport\n"
        f"print(ClientPassport.objects.get(pk={passport.pk}).number)\n"
    )
    read = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": _database_url(target_db), "S3_BUCKET": target_bucket,
                               "DJANGO_SETTINGS_MODULE": "travelcrm.settings", "DEBUG": "true"})
    assert read.returncode == 0, read.stderr[-2000:]
    assert read.stdout.strip().splitlines()[-1] == passport.number

    # A second restore into the same (now full) database is refused, and says why.
    again = _manage("restore", str(archive), "--identity", str(age_key), database=target_db, bucket=target_bucket)
    assert again.returncode != 0 and "не пуста" in again.stderr


def test_restore_refuses_a_wrong_key_and_a_damaged_archive(own_bucket, age_key, empty_target, tmp_path):
    result = backup_create(destination=Destination(directory=str(tmp_path)))
    archive = tmp_path / result.name
    target_db, target_bucket = empty_target
    other = tmp_path / "other.txt"
    other.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    wrong = _manage("restore", str(archive), "--identity", str(other), database=target_db, bucket=target_bucket)
    assert wrong.returncode != 0 and "НЕ выполнено" in wrong.stderr
    damaged = tmp_path / "damaged.tar.age"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    broken = _manage("restore", str(damaged), "--identity", str(age_key), database=target_db, bucket=target_bucket)
    assert broken.returncode != 0 and "НЕ выполнено" in broken.stderr


def test_backup_without_recipients_fails_loudly_and_writes_nothing(own_bucket, settings, tmp_path):
    settings.BACKUP_AGE_RECIPIENTS = []
    with pytest.raises(BackupError, match="BACKUP_AGE_RECIPIENTS"):
        backup_create(destination=Destination(directory=str(tmp_path)))
    assert list(tmp_path.iterdir()) == []
    out = _manage("backup", "--dir", str(tmp_path), database=connection.settings_dict["NAME"], bucket=own_bucket,
                  BACKUP_AGE_RECIPIENTS="")
    assert out.returncode != 0 and "НЕ создана" in out.stderr


@pytest.mark.parametrize("problem", [
    {"BACKUP_PG_BIN_DIR": "/nonexistent"},  # no pg_dump of the server's version
    {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/no_such_database_h15"},  # the database is gone
    {"S3_ENDPOINT_URL": "http://127.0.0.1:9"},  # object storage down
])
def test_any_failed_part_exits_non_zero_logs_an_error_and_leaves_no_backup(problem, own_bucket, age_key, settings,
                                                                           tmp_path):
    target = tmp_path / "backups"
    out = _manage("backup", "--dir", str(target), database=connection.settings_dict["NAME"], bucket=own_bucket,
                  BACKUP_AGE_RECIPIENTS=settings.BACKUP_AGE_RECIPIENTS[0], **problem)
    assert out.returncode != 0 and "НЕ создана" in out.stderr
    assert '"level": "ERROR"' in out.stdout + out.stderr and "backup failed" in out.stdout + out.stderr
    assert not target.exists() or list(target.iterdir()) == []


@pytest.mark.django_db(transaction=False)
def test_retention_keeps_the_newest_of_each_day_week_and_month():
    names = [f"travelcrm-2026{m:02d}{d:02d}T0{h}3000Z.tar.age" for m in (9, 10, 11) for d in range(1, 29)
             for h in (1, 2)]
    keep = retention_keep(names, daily=3, weekly=2, monthly=2)
    assert keep == {
        "travelcrm-20261128T023000Z.tar.age", "travelcrm-20261127T023000Z.tar.age",
        "travelcrm-20261126T023000Z.tar.age",  # 3 days (the later copy of each day)
        "travelcrm-20261122T023000Z.tar.age",  # the week before (Sunday 22 November)
        "travelcrm-20261028T023000Z.tar.age",  # the month before
    }
