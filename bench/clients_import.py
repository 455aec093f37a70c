"""Benchmark: CSV import of 100 000 clients into a database that already holds 100 000.

    python scripts/devservices.py exec -- .venv/bin/python bench/clients_import.py [--rows 100000]

Runs on its own database (BENCH_IMPORT_DATABASE_URL, default: the DATABASE_URL server, database
"<name>_import_bench"), dropped and migrated at the start (with --reuse-seed: copied from the
seeded database kept by an earlier --reuse-seed run, skipping phase 1). Every phase runs in a fresh child
process so its wall time and peak RSS (resource.getrusage ru_maxrss) are its own:

1. seed     — N clients (phone, e-mail, internal passport each) through the same bulk path
              (apps.clients.imports.service.import_clients) from a generated CSV;
2. import   — a second generated N-row CSV (Russian headers, ";", UTF-8 with BOM, phones written in
              several formats); 1 % of its rows are clients already in the database written
              differently, 1 % repeat an earlier row of the file. Timed: reading + parsing +
              normalising + encrypting + dedup + bulk inserts + the audit entry. Then the check:
              no blind index of a live contact or document occurs twice, and the client count is
              exactly seed + created;
3. reimport — the same file again: must create nothing;
4. ours-10k / import-export-10k — 10 000 new rows through our import and through a
              django-import-export ModelResource in its default row-by-row mode (one get_instance
              lookup by phone blind index, one save per client / contact / document, in one
              transaction), on the same database, for the ratio.
"""

import argparse
import csv
import io
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from benchdb import (  # noqa: E402 — bench/ is the script's own folder
    add_scale_argument,
    bench_database_url,
    create_database,
    scaled_suffix,
    vacuum_analyze,
)

sys.path.insert(0, str(ROOT))

HEADER = [
    "фамилия", "имя", "отчество", "фамилия_лат", "имя_лат", "дата_рождения", "телефон", "email",
    "паспорт_серия", "паспорт_номер", "паспорт_тип",
]
LAST_NAMES = [("Иванов", "IVANOV"), ("Смирнов", "SMIRNOV"), ("Кузнецов", "KUZNETSOV"), ("Попов", "POPOV"),
              ("Васильев", "VASILEV"), ("Петров", "PETROV"), ("Соколов", "SOKOLOV"), ("Михайлов", "MIKHAILOV"),
              ("Новиков", "NOVIKOV"), ("Фёдоров", "FEDOROV"), ("Морозов", "MOROZOV"), ("Волков", "VOLKOV")]
FIRST_NAMES = [("Александр", "ALEKSANDR"), ("Дмитрий", "DMITRII"), ("Максим", "MAKSIM"), ("Сергей", "SERGEI"),
               ("Андрей", "ANDREI"), ("Алексей", "ALEKSEI"), ("Иван", "IVAN"), ("Михаил", "MIKHAIL")]
MIDDLE_NAMES = ["Иванович", "Петрович", "Сергеевич", "Андреевич", "Дмитриевич", ""]
# Each data set gets its own phone prefix, e-mail tag and passport series range, so they never collide.
DATASETS = {"seed": ("916", 1), "import": ("926", 2), "ours10k": ("925", 3), "ie10k": ("915", 4)}


# --- Orchestration (parent process) -----------------------------------------------------------------


def bench_env(scale: int = 1, keys: dict | None = None) -> dict:
    """The phases' settings; `keys` (FIELD_ENCRYPTION_KEY, BLIND_INDEX_KEY) when a kept seed is reused —
    its rows are encrypted and blind-indexed with them — else fresh ones."""
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update({
        "DEBUG": "false",
        "DATABASE_URL": bench_database_url(scaled_suffix("_import_bench", scale), "BENCH_IMPORT_DATABASE_URL"),
        "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_hex(32),
        "ADMIN_PASSWORD": secrets.token_urlsafe(20),
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "travelcrm.settings",
        **(keys or {}),
    })
    return env


# --- --reuse-seed: the seeded database kept as a template ---------------------------------------------
# Seeding 1 000 000 clients through the import takes minutes; copying a kept copy (CREATE DATABASE …
# TEMPLATE, a file copy) takes seconds. The copy is "<bench database>_seeded", the keys its rows were
# encrypted with are in var/ (never committed).

KEY_NAMES = ("FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY")


def _seed_keys_file(scale: int, seed_rows: int) -> Path:
    return ROOT / "var" / f"bench_import_seed_x{scale}_{seed_rows}.env"


def _template_name(url: str) -> str:
    return urllib_path(url) + "_seeded"


def _admin(url: str):
    import urllib.parse

    import psycopg

    return psycopg.connect(urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path="/postgres")),
                           autocommit=True)


def kept_seed_keys(scale: int, seed_rows: int) -> dict | None:
    """The keys of a kept seed of this size, when both the template database and its keys exist."""
    keys_file = _seed_keys_file(scale, seed_rows)
    if not keys_file.exists():
        return None
    url = bench_env(scale)["DATABASE_URL"]
    with _admin(url) as conn:
        name = _template_name(url)
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return None
    return dict(line.split("=", 1) for line in keys_file.read_text().splitlines() if "=" in line)


def restore_seed(url: str) -> None:
    """The bench database, dropped and copied from its kept seed."""
    name = urllib_path(url)
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_template_name(url)}"')


def keep_seed(env: dict, scale: int, seed_rows: int) -> None:
    """Keep the freshly seeded (and analysed) database as the template of later --reuse-seed runs."""
    url = env["DATABASE_URL"]
    with _admin(url) as conn:
        name = urllib_path(url)
        conn.execute(f'DROP DATABASE IF EXISTS "{_template_name(url)}"')
        conn.execute(f'CREATE DATABASE "{_template_name(url)}" TEMPLATE "{name}"')
    keys_file = _seed_keys_file(scale, seed_rows)
    keys_file.parent.mkdir(exist_ok=True)
    keys_file.write_text("".join(f"{key}={env[key]}\n" for key in KEY_NAMES))


def urllib_path(url: str) -> str:
    import urllib.parse

    return urllib.parse.urlsplit(url).path.lstrip("/")


def run_phase(env: dict, phase: str, rows: int, seed_rows: int) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--rows", str(rows), "--seed-rows", str(seed_rows)]
    completed = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-5000:])
        raise SystemExit(f"phase {phase} failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--phase")
    parser.add_argument("--no-baseline", action="store_true", help="skip the django-import-export run")
    add_scale_argument(parser, sizes="clients already in the database before the --rows import: "
                                     "1 = 100 000, 10 = 1 000 000 (seeded through the import, 100 000 a file)")
    parser.add_argument("--seed-rows", type=int, default=None, help="overrides --scale")
    parser.add_argument("--reuse-seed", action="store_true",
                        help="keep the seeded database as a template (<database>_seeded) and start later runs "
                             "from a copy of it instead of seeding again (minutes at --scale 10)")
    args = parser.parse_args()
    args.seed_rows = args.seed_rows or 100_000 * args.scale
    if args.phase:
        result = PHASES[args.phase](args.seed_rows if args.phase == "seed" else args.rows)
        print(json.dumps(result, ensure_ascii=False))  # noqa: T201
        return

    kept = kept_seed_keys(args.scale, args.seed_rows) if args.reuse_seed else None
    env = bench_env(args.scale, keys=kept)
    phases = ("seed", "import", "reimport", "ours10k") + (() if args.no_baseline else ("ie10k",))
    if kept:
        started = time.perf_counter()
        restore_seed(env["DATABASE_URL"])
        print(f"seed      reused: copied from {_template_name(env['DATABASE_URL'])} in "  # noqa: T201
              f"{time.perf_counter() - started:.1f} s", flush=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)  # noqa: S603
        phases = phases[1:]
    else:
        create_database(env["DATABASE_URL"], drop=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)  # noqa: S603
    results = {}
    for phase in phases:
        results[phase] = run_phase(env, phase, args.rows, args.seed_rows)
        print(f"{phase:9s} {json.dumps(results[phase], ensure_ascii=False)}", flush=True)  # noqa: T201
        if phase == "seed":
            vacuum_analyze(env["DATABASE_URL"])  # statistics of the seeded tables, as production has them
            if args.reuse_seed:
                keep_seed(env, args.scale, args.seed_rows)
    main_run = results["import"]
    print()  # noqa: T201
    print(f"import of {main_run['rows']} rows into {main_run['clients_before']} clients: "  # noqa: T201
          f"{main_run['seconds']:.1f} s ({main_run['rows_per_second']:.0f} rows/s), "
          f"peak RSS {main_run['peak_rss_mib']:.0f} MiB, duplicates {main_run['duplicate_indexes']}, "
          f"totals {main_run['totals']}")
    if args.no_baseline:
        return
    ours, theirs = results["ours10k"], results["ie10k"]
    ratio = theirs["seconds"] / ours["seconds"]
    print(f"10 000 rows: ours {ours['seconds']:.1f} s, django-import-export row-by-row "  # noqa: T201
          f"{theirs['seconds']:.1f} s → {ratio:.1f}× faster")


# --- Data -------------------------------------------------------------------------------------------


def _phone_formats(prefix: str, n: int) -> str:
    digits = f"{n:07d}"
    style = n % 3
    if style == 0:
        return f"+7{prefix}{digits}"
    if style == 1:
        return f"8 ({prefix}) {digits[:3]}-{digits[3:5]}-{digits[5:]}"
    return f"+7 {prefix} {digits}"


def person(dataset: str, n: int) -> dict:
    prefix, tag = DATASETS[dataset]
    rnd = random.Random(tag * 10_000_000 + n)  # noqa: S311 - test data
    last, last_latin = rnd.choice(LAST_NAMES)
    first, first_latin = rnd.choice(FIRST_NAMES)
    birth = date(1950, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 55))
    return {
        "last_name": last, "first_name": first, "middle_name": rnd.choice(MIDDLE_NAMES),
        "last_name_latin": last_latin, "first_name_latin": first_latin, "birth_date": birth,
        "phone": _phone_formats(prefix, n), "email": f"client{n}.d{tag}@example.com",
        "series": f"{tag}{n // 1_000_000:03d}", "number": f"{n % 1_000_000:06d}",
    }


def csv_for(dataset: str, count: int, *, repeats_from_seed: int = 0, repeats_in_file: int = 0,
            start: int = 0) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    fresh = count - repeats_from_seed - repeats_in_file
    for n in range(count):
        if n < fresh:
            p = person(dataset, start + n)
        elif n < fresh + repeats_from_seed:
            p = person("seed", (n - fresh) * 37)  # a seeded client, phone written in another format
            p["phone"] = p["phone"].replace("+7", "8", 1) if p["phone"].startswith("+7") else p["phone"]
        else:
            p = person(dataset, (n - fresh - repeats_from_seed) * 53)  # an earlier row of this file
        writer.writerow([
            p["last_name"], p["first_name"], p["middle_name"], p["last_name_latin"], p["first_name_latin"],
            p["birth_date"].strftime("%d.%m.%Y"), p["phone"], p["email"], p["series"], p["number"], "",
        ])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- Phases (child processes) -------------------------------------------------------------------------


def _django() -> None:
    import django

    django.setup()


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _cpu_seconds() -> tuple[float, float]:
    """(this process, its PostgreSQL backend) CPU seconds so far: user + system.

    Wall time on this shared machine depends on everyone else's load; CPU seconds do not, and
    their sum is about what the same work takes on an idle machine.
    """
    from django.db import connection

    usage = resource.getrusage(resource.RUSAGE_SELF)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        server = float("nan")
    return usage.ru_utime + usage.ru_stime, server


def _cpu_delta(before: tuple[float, float]) -> dict:
    after = _cpu_seconds()
    return {"cpu_python_s": round(after[0] - before[0], 1), "cpu_postgres_s": round(after[1] - before[1], 1)}


def _client_count() -> int:
    from apps.clients.models import Client

    return Client.all_objects.count()


def _duplicate_indexes() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT kind, blind_index FROM clients_clientcontact WHERE NOT is_archived "
            "GROUP BY 1, 2 HAVING count(*) > 1) AS d"
        )
        contacts = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM (SELECT number_index FROM clients_clientpassport WHERE NOT is_archived "
            "GROUP BY 1 HAVING count(*) > 1) AS d"
        )
        return contacts + cursor.fetchone()[0]


def _ours(data: bytes, rows: int) -> dict:
    from apps.clients.imports.service import import_clients

    before = _client_count()
    cpu = _cpu_seconds()
    started = time.perf_counter()
    report = import_clients(data=data, file_name="bench.csv", dry_run=False)
    seconds = time.perf_counter() - started
    cpu_used = _cpu_delta(cpu)
    after = _client_count()
    totals = report.totals
    assert after == before + totals["created"], (before, after, totals)
    return {
        **cpu_used, "load_average": round(os.getloadavg()[0], 1),
        "rows": rows, "clients_before": before, "clients_after": after, "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds), "peak_rss_mib": round(_peak_rss_mib(), 1),
        "file_mib": round(len(data) / 2**20, 1), "totals": totals, "duplicate_indexes": _duplicate_indexes(),
    }


SEED_FILE_ROWS = 100_000  # a 1 000 000-client seed is ten files: one would need gigabytes of memory


def phase_seed(rows: int) -> dict:
    _django()
    results = []
    for start in range(0, rows, SEED_FILE_ROWS):
        count = min(SEED_FILE_ROWS, rows - start)
        results.append(_ours(csv_for("seed", count, start=start), count))
    if len(results) == 1:
        return results[0]
    seconds = sum(r["seconds"] for r in results)
    return {**results[-1], "rows": rows, "clients_before": results[0]["clients_before"], "seconds": round(seconds, 2),
            "rows_per_second": round(rows / seconds), "files": len(results)}


def _import_file(rows: int) -> bytes:
    return csv_for("import", rows, repeats_from_seed=rows // 100, repeats_in_file=rows // 100)


def phase_import(rows: int) -> dict:
    _django()
    return _ours(_import_file(rows), rows)


def phase_reimport(rows: int) -> dict:
    _django()
    result = _ours(_import_file(rows), rows)
    assert result["totals"]["created"] == 0, result
    return result


def phase_ours10k(_rows: int) -> dict:
    _django()
    return _ours(csv_for("ours10k", 10_000), 10_000)


def phase_ie10k(_rows: int) -> dict:
    _django()
    import tablib

    resource_class = _row_by_row_resource()
    data = csv_for("ie10k", 10_000)
    before = _client_count()
    cpu = _cpu_seconds()
    started = time.perf_counter()
    dataset = tablib.Dataset().load(data.decode("utf-8-sig"), format="csv", delimiter=";")
    result = resource_class().import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    cpu_used = _cpu_delta(cpu)
    after = _client_count()
    return {
        **cpu_used, "load_average": round(os.getloadavg()[0], 1),
        "rows": 10_000, "clients_before": before, "clients_after": after, "seconds": round(seconds, 2),
        "rows_per_second": round(10_000 / seconds), "peak_rss_mib": round(_peak_rss_mib(), 1),
        "totals": {key: value for key, value in result.totals.items() if value},
        "duplicate_indexes": _duplicate_indexes(),
    }


def _row_by_row_resource():
    """A django-import-export ModelResource in its default (row-by-row) mode, doing the same job."""
    from import_export import fields, resources, widgets

    from apps.clients.models import Client, ClientContact, ClientPassport
    from apps.clients.normalization import EMAIL, PHONE, contact_index, normalize_contact
    from apps.clients.services import prepare_passport

    class ClientRowResource(resources.ModelResource):
        last_name = fields.Field(attribute="last_name", column_name="фамилия")
        first_name = fields.Field(attribute="first_name", column_name="имя")
        middle_name = fields.Field(attribute="middle_name", column_name="отчество")
        last_name_latin = fields.Field(attribute="last_name_latin", column_name="фамилия_лат")
        first_name_latin = fields.Field(attribute="first_name_latin", column_name="имя_лат")
        birth_date = fields.Field(
            attribute="birth_date", column_name="дата_рождения", widget=widgets.DateWidget(format="%d.%m.%Y")
        )

        class Meta:
            model = Client
            fields = ("last_name", "first_name", "middle_name", "last_name_latin", "first_name_latin", "birth_date")
            import_id_fields = ()

        def before_import_row(self, row, **kwargs):
            row["_phone"] = normalize_contact(PHONE, row["телефон"])
            row["_email"] = normalize_contact(EMAIL, row["email"])

        def get_instance(self, instance_loader, row):
            # Dedup the way a Resource does it: one lookup per row (here by the phone's blind index).
            index = contact_index(PHONE, row["_phone"])
            owner = ClientContact.objects.filter(kind=PHONE, blind_index=index, is_archived=False).order_by()
            found = list(owner.values_list("client_id", flat=True)[:1])  # no ORDER BY: the index answers
            return Client.objects.get(pk=found[0]) if found else None

        def after_save_instance(self, instance, row, **kwargs):
            if kwargs.get("dry_run") or instance.contacts.exists():
                return
            for kind, value in ((PHONE, row["_phone"]), (EMAIL, row["_email"])):
                ClientContact.objects.create(
                    client=instance, kind=kind, value=value, blind_index=contact_index(kind, value), is_primary=True
                )
            passport, _errors = prepare_passport(
                {"kind": "internal", "series": row["паспорт_серия"], "number": row["паспорт_номер"]}
            )
            ClientPassport.objects.create(
                client=instance, kind=passport.kind, series=passport.series, number=passport.number,
                number_index=passport.index,
            )

    return ClientRowResource


PHASES = {
    "seed": phase_seed,
    "import": phase_import,
    "reimport": phase_reimport,
    "ours10k": phase_ours10k,
    "ie10k": phase_ie10k,
}

if __name__ == "__main__":
    main()
