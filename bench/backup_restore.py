"""Backup and restore of 100 000 clients and 2 000 files: time and size (issue 15: restore ≤ 2× backup).

    .venv/bin/python bench/backup_restore.py [--clients 100000] [--files 2000] [--file-kb 64]

Seeds its own database (<DATABASE_URL name>_backup) with clients, contacts and passports (the
clients_list bench's seeder) and its own bucket with `--files` objects, runs `manage.py backup`,
then `manage.py restore` into a new empty database and bucket, and prints both times, the archive
size and the check that every row count and object matched (the restore verifies its manifest).
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import add_scale_argument, bench_database_url, create_database, scaled_suffix  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=None, help="overrides --scale (default 100 000 x scale)")
    parser.add_argument("--files", type=int, default=None, help="overrides --scale (default 2 000 x scale)")
    parser.add_argument("--file-kb", type=int, default=64)
    add_scale_argument(parser, sizes="1 = 100 000 clients and 2 000 files, 10 = 1 000 000 and 20 000")
    args = parser.parse_args()
    args.clients = args.clients or 100_000 * args.scale
    args.files = args.files or 2000 * args.scale

    import pyrage

    url = bench_database_url(scaled_suffix("_backup", args.scale))
    restore_url = bench_database_url(scaled_suffix("_backup_restore", args.scale))
    create_database(url)
    create_database(restore_url, drop=True)
    bucket = f"{os.environ.get('S3_BUCKET', 'travelcrm')}-bench-backup{scaled_suffix('', args.scale).replace('_', '-')}"
    restore_bucket = f"{bucket}-restore-{secrets.token_hex(3)}"
    identity = pyrage.x25519.Identity.generate()
    workdir = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    (workdir / "key.txt").write_text(f"{identity}\n")
    env = {**os.environ, "DATABASE_URL": url, "S3_BUCKET": bucket, "DEBUG": "true",
           "BACKUP_AGE_RECIPIENTS": str(identity.to_public()), "DJANGO_SETTINGS_MODULE": "travelcrm.settings"}
    os.environ.update(env)
    import django

    django.setup()
    from clients_list import seed
    from django.core.management import call_command

    from apps.core.storage import s3_client

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    added = seed(args.clients)
    client = s3_client(timeout=60)
    if bucket not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=bucket)
    have = client.list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    for index in range(have, args.files):
        client.put_object(Bucket=bucket, Key=f"clients/bench-{index:05d}.pdf", Body=os.urandom(args.file_kb * 1024))
    seeded = time.perf_counter() - started
    client.create_bucket(Bucket=restore_bucket)

    def run(*command, **extra) -> float:
        begin = time.perf_counter()
        result = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env={**env, **extra},
                                capture_output=True, text=True, timeout=3600)
        if result.returncode != 0:
            raise SystemExit(result.stderr[-2000:])
        return time.perf_counter() - begin

    backup_s = run("backup", "--dir", str(workdir / "backups"))
    archive = next((workdir / "backups").glob("travelcrm-*.tar.age"))
    restore_s = run("restore", str(archive), "--identity", str(workdir / "key.txt"),
                    DATABASE_URL=restore_url, S3_BUCKET=restore_bucket)
    size = archive.stat().st_size
    # Tidy up: the restored copy and its bucket (the seeded source stays for the next run).
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=restore_bucket):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=restore_bucket, Key=obj["Key"])
    client.delete_bucket(Bucket=restore_bucket)
    name = urllib.parse.urlsplit(restore_url).path.lstrip("/")
    subprocess.run(["dropdb", "--if-exists", "--force", "-h", "127.0.0.1", "-U", "postgres", name], check=False)
    shutil.rmtree(workdir, ignore_errors=True)
    print({
        "clients": args.clients, "seeded_now": added, "files": args.files, "file_kb": args.file_kb,
        "seed_s": round(seeded, 1), "backup_s": round(backup_s, 1), "restore_s": round(restore_s, 1),
        "restore_to_backup": round(restore_s / backup_s, 2), "archive_mib": round(size / 1024 / 1024, 1),
        "verified": "row counts, dump SHA-256, every object's size and SHA-256 (manage.py restore)",
    })


if __name__ == "__main__":
    main()
