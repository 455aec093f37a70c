"""Benchmark (issue 14): `rotate_encryption_keys` and `rotate_blind_index` over 100 000 clients and
their files, measured for real (target: ≤ 5 min for the encryption keys).

    DATABASE_URL=... S3_ENDPOINT_URL=... S3_BUCKET=... .venv/bin/python bench/rotate_keys.py \
        [--clients 100000] [--files 3000] [--drop]

Seeds its own database ("<DATABASE_URL's name>_rotate_bench") by COPY with the clients_list bench's
seeder (each client: encrypted birth date and notes, a phone and an e-mail, an internal passport —
encrypted and blind-indexed as the app does), then `--files` small scans through client_file_add
(each one an encrypted object in the bucket with its data key in StoredObjectKey). Then runs, in
process, `manage.py rotate_encryption_keys` with a new key put first, and `rotate_blind_index` with
a new BLIND_INDEX_KEY (the old one as BLIND_INDEX_KEY_OLD), each with its JobProgress, and prints
the wall times and rows/s. The seeding key is fixed per database (BENCH_FIELD_ENCRYPTION_KEY,
default: a constant throw-away key) so a re-run can reuse the seeded rows; `--drop` drops the
database (and the bench's objects) at the end.
"""

import argparse
import io
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchdb import bench_database_url, create_database  # noqa: E402

# Throw-away keys of the bench database only (never a real deployment's).
SEED_KEY = os.environ.get("BENCH_FIELD_ENCRYPTION_KEY", "SyRa8cFI3yDXx0rSHLgn5y6DKycg9yEgXasA_EP4ZKE=")
# The key the rotation moves everything to (fixed too, so the rotated database stays readable).
ROTATED_KEY = os.environ.get("BENCH_ROTATED_KEY", "rDOxZ5FojEWSaI1MuJxrTvvwEluUfR8XBB3kmqWWblM=")
SEED_BLIND = os.environ.get("BENCH_BLIND_INDEX_KEY", "4d03b99d8276f3070d4587c06a4e6eac1d589b28e2ea9186b258643dc645c564")


def setup(url: str) -> None:
    create_database(url)
    os.environ.update({
        "DEBUG": "false", "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEY": f"{SEED_KEY},{ROTATED_KEY}", "BLIND_INDEX_KEY": SEED_BLIND,
        "ADMIN_PASSWORD": secrets.token_urlsafe(20),
        "ALLOWED_HOSTS": "testserver,127.0.0.1", "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "travelcrm.settings",
    })
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed_files(count: int) -> int:
    from botocore.exceptions import ClientError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.clients.models import Client, ClientFile
    from apps.clients.services import client_file_add
    from apps.core.storage import ensure_bucket

    try:
        ensure_bucket()
    except ClientError:  # created meanwhile by another process
        pass
    have = ClientFile.objects.count()
    jpeg = b"\xff\xd8\xff\xe0" + os.urandom(30_000)
    added = 0
    for client in Client.objects.order_by("-pk")[: max(0, count - have)]:
        client_file_add(client=client, uploaded=SimpleUploadedFile("scan.jpg", jpeg, content_type="image/jpeg"))
        added += 1
    return added


def counts() -> dict:
    from django.apps import apps

    from apps.core.crypto import encrypted_fields

    return {model._meta.label: model._base_manager.count() for model in apps.get_models() if encrypted_fields(model)}


def rotate_fields() -> tuple[float, dict]:
    from django.conf import settings
    from django.core.management import call_command

    from apps.jobs.models import JobProgress

    settings.FIELD_ENCRYPTION_KEY = [ROTATED_KEY, SEED_KEY]  # the new key first, as the docs say
    started = time.perf_counter()
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    elapsed = time.perf_counter() - started
    progress = JobProgress.objects.filter(kind="rotate_encryption_keys").order_by("-pk").first()
    return elapsed, {"progress": f"{progress.done}/{progress.total} {progress.status}" if progress else None}


def rotate_blind() -> float:
    """To a fresh key and back is two rotations: one is measured (SEED_BLIND -> a throw-away key),
    then the rows are put back under SEED_BLIND so a re-run finds them (not measured)."""
    from django.conf import settings
    from django.core.management import call_command

    settings.BLIND_INDEX_KEY_OLD = SEED_BLIND
    settings.BLIND_INDEX_KEY = secrets.token_hex(32)
    started = time.perf_counter()
    call_command("rotate_blind_index", "--restart", stdout=io.StringIO())
    elapsed = time.perf_counter() - started
    settings.BLIND_INDEX_KEY_OLD, settings.BLIND_INDEX_KEY = settings.BLIND_INDEX_KEY, SEED_BLIND
    if not os.environ.get("BENCH_SKIP_BLIND_RESTORE"):
        call_command("rotate_blind_index", "--restart", stdout=io.StringIO())
    return elapsed


def drop(url: str) -> None:
    from django.core.files.storage import default_storage

    from apps.clients.models import ClientFile

    for name in ClientFile.objects.values_list("file", flat=True):
        default_storage.delete(name)
    from django.db import connections

    connections.close_all()
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    subprocess.run(["dropdb", "--if-exists", "--force", "-h", "127.0.0.1", "-U", "postgres", name], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--skip-blind", action="store_true", help="measure rotate_encryption_keys only")
    parser.add_argument("--drop", action="store_true", help="drop the bench database and its objects at the end")
    from benchdb import add_scale_argument  # bench/ is the script's folder

    add_scale_argument(parser, fixed_because=(
        "not yet per-scale databases here: --clients and --files set the size (10x: --clients "
        "1000000 --files 30000)"))
    args = parser.parse_args()
    url = bench_database_url("_rotate_bench")
    setup(url)
    from clients_list import seed

    started = time.perf_counter()
    added = seed(args.clients)
    files = seed_files(args.files)
    print(f"seeded {added} clients and {files} files in {time.perf_counter() - started:.1f} s", flush=True)
    if not args.seed_only:
        rows = counts()
        print("encrypted rows:", rows, flush=True)
        elapsed, extra = rotate_fields()
        total = sum(rows.values())
        print(f"rotate_encryption_keys: {total} encrypted rows of {len(rows)} models "
              f"(incl. {rows.get('core.StoredObjectKey', 0)} file data keys) in {elapsed:.1f} s "
              f"= {total / elapsed:.0f} rows/s; {extra}", flush=True)
        if not args.skip_blind:
            blind = rotate_blind()
            print(f"rotate_blind_index: {blind:.1f} s", flush=True)
    if args.drop:
        drop(url)
        print("bench database dropped")


if __name__ == "__main__":
    main()
