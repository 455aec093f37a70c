"""Benchmark (issue 14): the cost of personal-data protection, each figure with its same-run baseline.

    DATABASE_URL=... S3_ENDPOINT_URL=... S3_BUCKET=... .venv/bin/python bench/personal_data.py [--clients 2000]

Runs in its own database ("<DATABASE_URL's name>_pd_bench", migrated here), in-process (Django's test
client, DEBUG off, throw-away keys), so figures are CPU + PostgreSQL + S3 without HTTP serving:
1. GET /api/v1/clients/?page_size=50 as an operator (decrypted, unmasked): the access-log middleware
   on vs off, 6 interleaved bursts; requests/s and queries per request.
2. Subject export (JSON) of a client with 50 orders, and its anonymisation: wall time.
3. Download of a 20 MB scan stored encrypted: wall time and peak Python memory (tracemalloc) of
   reading it through the decrypting stream, against reading 20 MB stored unencrypted.
4. rotate_encryption_keys over the seeded clients and the file data keys: rows/s.
"""

import argparse
import os
import secrets
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchdb import add_scale_argument, bench_database_url, create_database, scaled_suffix, vacuum_analyze  # noqa: E402


def setup(reseed: bool, scale: int = 1) -> None:
    from cryptography.fernet import Fernet

    url = bench_database_url(scaled_suffix("_pd_bench", scale))
    create_database(url, drop=reseed)
    os.environ.update({
        "DEBUG": "false", "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEY": os.environ.get("BENCH_FIELD_ENCRYPTION_KEY") or Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_hex(32), "ADMIN_PASSWORD": secrets.token_urlsafe(20),
        "ALLOWED_HOSTS": "testserver,127.0.0.1", "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "travelcrm.settings",
    })
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed_clients(count: int) -> None:
    from apps.clients.models import Client
    from apps.clients.services import client_create

    have = Client.objects.count()
    for n in range(have, count):
        client_create(data={"last_name": f"Бенчев{n}", "first_name": "Иван", "birth_date": "1980-01-01",
                            "phones": [f"+7915{n:07d}"], "emails": [f"b{n}@example.ru"], "notes": "Заметка",
                            "passports": [{"kind": "internal", "series": "4510", "number": f"{n:06d}"}]})


def bench_list(bursts: int, per_burst: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from rest_framework.test import APIClient

    from apps.accounts.models import Role, User

    user = User.objects.filter(role=Role.OPERATOR).first() or User.objects.create_user(
        email=f"op{secrets.token_hex(3)}@bench.ru", password=secrets.token_urlsafe(12), role=Role.OPERATOR)
    api = APIClient()
    api.force_authenticate(user)
    off = [m for m in settings.MIDDLEWARE if m != "apps.audit.middleware.PersonalDataAccessMiddleware"]
    rates = {"on": [], "off": []}
    for _ in range(bursts):
        for mode in ("on", "off"):
            with override_settings(MIDDLEWARE=settings.MIDDLEWARE if mode == "on" else off):
                started = time.perf_counter()
                for _ in range(per_burst):
                    assert api.get("/api/v1/clients/", {"page_size": 50}).status_code == 200
                rates[mode].append(per_burst / (time.perf_counter() - started))
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/v1/clients/", {"page_size": 50})
    on, off_rate = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(f"client list, page 50: access log on {on:.1f} req/s, off {off_rate:.1f} req/s "
          f"(median of {bursts} interleaved bursts of {per_burst}) -> {100 * (1 - on / off_rate):.1f} % cost; "
          f"{len(queries)} queries per request with the log (one INSERT)")


def bench_subject() -> None:
    from rest_framework.test import APIClient

    from apps.accounts.models import Role, User
    from apps.documents.demo import build_demo_order, ensure_requisites
    from apps.orders.models import Order

    ensure_requisites()
    first = build_demo_order(services=2, unique=str(secrets.randbelow(9000) + 1000))
    client = first.client
    for _ in range(49):
        order = build_demo_order(services=2, unique=str(secrets.randbelow(9000) + 1000))
        Order.objects.filter(pk=order.pk).update(client=client)
    supervisor = User.objects.create_user(email=f"sv{secrets.token_hex(3)}@bench.ru",
                                          password=secrets.token_urlsafe(12), role=Role.SUPERVISOR)
    api = APIClient()
    api.force_authenticate(supervisor)
    started = time.perf_counter()
    response = api.get(f"/api/v1/clients/{client.pk}/personal-data/")
    export = time.perf_counter() - started
    assert response.status_code == 200 and len(response.json()["orders"]) >= 50, response.status_code
    started = time.perf_counter()
    response = api.post(f"/api/v1/clients/{client.pk}/anonymize/", {"reason": "bench", "force": True}, format="json")
    anonymize = time.perf_counter() - started
    assert response.status_code == 201, response.content
    print(f"subject export JSON, client with {len(Order.objects.filter(client=client))} orders: {export:.2f} s; "
          f"anonymisation: {anonymize:.2f} s")


def bench_download() -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.test.utils import override_settings

    from apps.core.storage import random_key

    _bucket()
    data = b"\xff\xd8\xff\xe0" + os.urandom(20 * 1024 * 1024 - 4)
    results = {}
    for mode, encrypted in (("encrypted", True), ("plain (baseline)", False)):
        with override_settings(FILE_ENCRYPTION=encrypted):
            key = default_storage.save(random_key("bench", "scan.jpg"), ContentFile(data))
            tracemalloc.start()
            started = time.perf_counter()
            with default_storage.open(key, "rb") as handle:
                total = sum(len(chunk) for chunk in iter(lambda: handle.read(64 * 1024), b""))
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert total == len(data)
            default_storage.delete(key)
            results[mode] = (elapsed, peak)
    for mode, (elapsed, peak) in results.items():
        print(f"20 MB scan download, {mode}: {elapsed:.2f} s, peak Python memory {peak / 2**20:.1f} MiB")


def bench_rotation() -> None:
    """Twice over the same rows: one UPDATE per row (the baseline, as before issue 14), then the
    pipelined executemany per batch."""
    import io

    from cryptography.fernet import Fernet
    from django.conf import settings
    from django.core.management import call_command

    from apps.clients.models import Client, ClientContact, ClientPassport
    from apps.core import queries
    from apps.core.models import StoredObjectKey

    rows = Client.objects.count() + ClientContact.objects.count() + ClientPassport.objects.count()
    keys = StoredObjectKey.objects.count()
    many = queries.tokens_write_many

    def one_by_one(model, fields, batch):
        for pk, tokens in batch:
            queries.tokens_write(model, fields, pk, tokens)

    def per_row_write(model, fields, pk, tokens):
        many(model, fields, [(pk, tokens)])

    for label, writer in (("one UPDATE per row (baseline)", one_by_one), ("pipelined per batch", many)):
        queries.tokens_write_many = writer
        queries.tokens_write = per_row_write
        settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEY]
        started = time.perf_counter()
        call_command("rotate_encryption_keys", stdout=io.StringIO())
        elapsed = time.perf_counter() - started
        print(f"rotate_encryption_keys, {label}: {Client.objects.count()} clients ({rows} client/contact/passport "
              f"rows; all encrypted rows of every model) and {keys} file keys in {elapsed:.1f} s "
              f"-> {rows / elapsed:.0f} client rows/s, "
              f"100 000 clients ~ {100_000 * elapsed / Client.objects.count():.0f} s")
    queries.tokens_write_many = many


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=None, help="overrides --scale (default 2 000 x scale)")
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--keep", action="store_true",
                        help="reuse the seeded database (needs the same BENCH_FIELD_ENCRYPTION_KEY)")
    add_scale_argument(parser, sizes="1 = 2 000 clients made through the service, 10 = 20 000 (files stay --files)")
    args = parser.parse_args()
    setup(reseed=not args.keep, scale=args.scale)
    seed_clients(args.clients or 2000 * args.scale)
    seed_files(args.files)
    vacuum_analyze(os.environ["DATABASE_URL"])
    bench_list(bursts=6, per_burst=20)
    bench_subject()
    bench_download()
    bench_rotation()


def _bucket() -> None:
    from botocore.exceptions import ClientError

    from apps.core.storage import ensure_bucket

    try:
        ensure_bucket()
    except ClientError:  # created meanwhile by another process
        pass


def seed_files(count: int) -> None:
    """Small scans attached to the first clients (each file's data key is what rotation re-wraps)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.clients.models import Client, ClientFile
    from apps.clients.services import client_file_add
    _bucket()
    have = ClientFile.objects.count()
    jpeg = b"\xff\xd8\xff\xe0" + os.urandom(30_000)
    for client in Client.objects.order_by("pk")[: max(0, count - have)]:
        client_file_add(client=client, uploaded=SimpleUploadedFile("scan.jpg", jpeg, content_type="image/jpeg"))


if __name__ == "__main__":
    main()
