"""Benchmark (issue 14): the subject export `?format=zip` streams — memory and time to the first byte
against the earlier way (the whole archive built in a SpooledTemporaryFile first), in one run.

    BENCH_DATABASE_URL=<a migrated bench database> S3_ENDPOINT_URL=... S3_BUCKET=... \
        .venv/bin/python bench/subject_zip.py [--mb 64] [--keys "<FIELD_ENCRYPTION_KEY>"]

In process: a client with one scan of --mb MiB (random bytes: they do not compress) stored encrypted;
the export is consumed chunk by chunk into /dev/null. Peak Python memory (tracemalloc) and wall times
for both ways, interleaved 3 times; the medians are printed. The client and its object are removed.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def spooled(data, files):
    """The earlier implementation (before this change), for the same-run baseline."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from apps.audit.services import open_stored

    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - read by the caller
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("personal-data.json", json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder))
        for name, key in files:
            with archive.open(name, "w") as target, open_stored(key) as source:
                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                    target.write(chunk)
    spool.seek(0)
    return iter(lambda: spool.read(64 * 1024), b"")


def measure(make) -> tuple[float, float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    first = None
    with open(os.devnull, "wb") as sink:
        for chunk in make():
            if first is None:
                first = time.perf_counter() - started
            sink.write(chunk)
    total = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return first or total, total, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--keys", default=os.environ.get("FIELD_ENCRYPTION_KEY", ""))
    from benchdb import add_scale_argument  # bench/ is the script's folder

    add_scale_argument(parser, fixed_because=(
        "one subject's files zipped in this process; --mb is the size, no table grows"))
    args = parser.parse_args()
    os.environ.update({"DEBUG": "false", "DATABASE_URL": os.environ["BENCH_DATABASE_URL"],
                       "SECRET_KEY": secrets.token_urlsafe(60), "FIELD_ENCRYPTION_KEY": args.keys,
                       "BLIND_INDEX_KEY": os.environ.get("BLIND_INDEX_KEY") or secrets.token_hex(32),
                       "ADMIN_PASSWORD": secrets.token_urlsafe(20), "ALLOWED_HOSTS": "testserver",
                       "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "travelcrm.settings"})
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from apps.audit import services
    from apps.clients.models import Client, ClientFile

    client = Client.objects.create(last_name="Выгрузкин", first_name="Бенч")
    size = args.mb * 1024 * 1024
    key = default_storage.save("clients/bench-zip.jpg", ContentFile(b"\xff\xd8\xff\xe0" + os.urandom(size - 4)))
    ClientFile.objects.create(client=client, file=key, original_name="scan.jpg", content_type="image/jpeg", size=size)
    try:
        data = services.subject_data(client)
        files = services._files_of(client.id)
        import json

        from django.core.serializers.json import DjangoJSONEncoder

        document = json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)
        results = {"streamed": [], "spooled (before)": []}
        for _ in range(3):
            results["streamed"].append(measure(lambda: services._zip_stream(document, files)))
            results["spooled (before)"].append(measure(lambda: spooled(data, files)))
        for label, runs in results.items():
            first, total, peak = (statistics.median(values) for values in zip(*runs, strict=True))
            print(f"{label}: {args.mb} MiB scan -> first byte {first:.2f} s, all {total:.2f} s, "
                  f"peak Python memory {peak / 2**20:.1f} MiB (medians of 3)")
    finally:
        default_storage.delete(key)
        client.delete()


if __name__ == "__main__":
    main()
