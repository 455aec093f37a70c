"""Backups and restores: the database (pg_dump -Fc) and every object of the bucket, in one
age-encrypted archive with a manifest, kept N daily / M weekly / K monthly.

Archive (`travelcrm-<UTC time>.tar.age`): a tar stream, encrypted on the fly for the recipients
in BACKUP_AGE_RECIPIENTS (the keys to read it are NOT in it, nor on the server), holding
    database.dump          pg_dump -Fc of the whole database, by the server's own pg_dump
    objects/<key>          every object of the bucket, byte for byte
    manifest.json          last: app version, migrations, row counts, the dump's and every
                           object's size and SHA-256 (computed while streaming)
Only the dump touches the disk unencrypted (a 0700 temporary directory, deleted at once; its
personal-data columns are Fernet-encrypted anyway); the archive is never written in plain text.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyrage
from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder

from apps.core.storage import s3_client
from apps.jobs import queries

logger = logging.getLogger("travelcrm.backup")

FORMAT = 1
NAME_RE = re.compile(r"^travelcrm-(\d{8}T\d{6}Z)\.tar\.age$")
CHUNK = 1024 * 1024
Progress = Callable[[int, int], None]  # (done, total) in steps: tables + objects


class BackupError(Exception):
    """A part of the backup or restore failed; the message says which, in Russian."""


# --- The server's own PostgreSQL tools ------------------------------------------------------------


def _tool_major(path: str, env: dict) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 — a candidate path we built, no shell
            [path, "--version"], capture_output=True, text=True, timeout=10, check=True, env=env
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore of the server's major version: BACKUP_PG_BIN_DIR, the embedded
    server's (pgserver), the distribution's /usr/lib/postgresql/<major>/bin, then PATH."""
    major = connection.pg_version // 10000 if connection.pg_version >= 100000 else connection.pg_version // 100
    if settings.BACKUP_PG_BIN_DIR:
        candidates = [str(Path(settings.BACKUP_PG_BIN_DIR) / name)]
    else:
        candidates = []
        spec = importlib.util.find_spec("pgserver")
        if spec and spec.origin:
            candidates.append(str(Path(spec.origin).parent / "pginstall" / "bin" / name))
        candidates.append(f"/usr/lib/postgresql/{major}/bin/{name}")
        if shutil.which(name):
            candidates.append(shutil.which(name))
    for candidate in candidates:
        if os.access(candidate, os.X_OK) and _tool_major(candidate, _pg_env_and_args(candidate)[0]) == major:
            return candidate
    raise BackupError(
        f"Не найден {name} версии {major} (как у сервера PostgreSQL). Укажите каталог в BACKUP_PG_BIN_DIR."
    )


def _pg_env_and_args(tool: str) -> tuple[dict, list[str]]:
    db = connection.settings_dict
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    libs = Path(tool).parent.parent / "lib"  # the tool's own libpq (pgserver, the Docker image)
    if libs.is_dir():
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(libs), env.get("LD_LIBRARY_PATH", "")]))
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = []
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    return env, args


# --- What the database holds ----------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    return queries.row_counts()


def migration_state() -> dict[str, list[str]]:
    state: dict[str, list[str]] = {}
    for app, name in MigrationRecorder.Migration.objects.order_by("app", "name").values_list("app", "name"):
        state.setdefault(app, []).append(name)
    return state


def app_version() -> str:
    if settings.APP_VERSION:
        return settings.APP_VERSION
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 — git from PATH, read-only
            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=5,
        )
        return head.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# --- Where backups are kept: a directory or a separate bucket -------------------------------------


class Destination:
    """BACKUP_DIR (a directory, e.g. a mounted NAS) or BACKUP_BUCKET (another S3 bucket)."""

    def __init__(self, directory: str = "", bucket: str = ""):
        self.directory = Path(directory) if directory else None
        self.bucket = bucket
        if not self.directory and not self.bucket:
            raise BackupError("Не задано, куда сохранять копии: BACKUP_DIR или BACKUP_BUCKET.")

    @classmethod
    def from_settings(cls) -> Destination:
        return cls(directory=settings.BACKUP_DIR, bucket=settings.BACKUP_BUCKET)

    def names(self) -> list[str]:
        if self.directory:
            if not self.directory.exists():
                return []
            return sorted(p.name for p in self.directory.iterdir() if NAME_RE.match(p.name))
        client, names = s3_client(timeout=30), []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            names += [o["Key"] for o in page.get("Contents", []) if NAME_RE.match(o["Key"])]
        return sorted(names)

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[io.BufferedWriter]:
        """A file to write the archive to; it appears under `name` only when complete."""
        target_dir = self.directory or Path(tempfile.mkdtemp(prefix="travelcrm-backup-"))
        target_dir.mkdir(parents=True, exist_ok=True)
        partial = target_dir / f".{name}.partial"
        try:
            with open(partial, "wb") as out:
                yield out
            if self.directory:
                partial.rename(self.directory / name)
            else:
                s3_client(timeout=60).upload_file(str(partial), self.bucket, name)
        finally:
            partial.unlink(missing_ok=True)
            if not self.directory:
                shutil.rmtree(target_dir, ignore_errors=True)

    def delete(self, name: str) -> None:
        if self.directory:
            (self.directory / name).unlink(missing_ok=True)
        else:
            s3_client(timeout=30).delete_object(Bucket=self.bucket, Key=name)

    def size(self, name: str) -> int:
        if self.directory:
            return (self.directory / name).stat().st_size
        return s3_client(timeout=30).head_object(Bucket=self.bucket, Key=name)["ContentLength"]


def retention_keep(names: list[str], *, daily: int, weekly: int, monthly: int) -> set[str]:
    """The newest backup of each of the last `daily` days, `weekly` ISO weeks and `monthly`
    months that have one (grandfather-father-son). Everything else may go."""
    stamps = sorted(
        ((datetime.strptime(NAME_RE.match(n).group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC), n) for n in names),
        reverse=True,
    )
    keep: set[str] = set()
    for count, period in ((daily, lambda d: d.date()), (weekly, lambda d: d.isocalendar()[:2]),
                          (monthly, lambda d: (d.year, d.month))):
        seen = []
        for stamp, name in stamps:  # newest first: the first of a period is its newest
            key = period(stamp)
            if key not in seen:
                seen.append(key)
                if len(seen) > count:
                    break
                keep.add(name)
    return keep


# --- Backup ---------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    name: str
    size: int
    seconds: float
    objects: int
    rows: int
    deleted: list[str] = field(default_factory=list)


def _recipients() -> list:
    recipients = []
    for text in settings.BACKUP_AGE_RECIPIENTS:
        try:
            if text.startswith("age1"):
                recipients.append(pyrage.x25519.Recipient.from_str(text))
            else:
                recipients.append(pyrage.ssh.Recipient.from_str(text))
        except Exception as error:  # noqa: BLE001 — name the bad entry, never go on without it
            raise BackupError(f"Неверный получатель в BACKUP_AGE_RECIPIENTS: {text[:20]}… ({error})") from None
    if not recipients:
        raise BackupError("BACKUP_AGE_RECIPIENTS пуст: копию с персональными данными нельзя хранить незашифрованной.")
    return recipients


class _HashingReader(io.RawIOBase):
    """Reads a stream and hashes what passed."""

    def __init__(self, raw):
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        self.sha.update(data)
        self.size += len(data)
        buffer[: len(data)] = data
        return len(data)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    tar.addfile(info, io.BytesIO(data))


def _write_archive(out, *, dump_path: Path, manifest: dict, progress: Progress | None, total: int) -> None:
    """The tar stream: the dump, every object (hashed while streaming), the manifest last."""
    client, bucket = s3_client(timeout=60), settings.S3_BUCKET
    with tarfile.open(fileobj=out, mode="w|") as tar:
        info = tar.gettarinfo(str(dump_path), arcname="database.dump")
        info.mode = 0o600
        with open(dump_path, "rb") as dump:
            tar.addfile(info, dump)
        done = len(manifest["row_counts"])
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                try:
                    body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"]
                except client.exceptions.NoSuchKey:  # deleted since the listing: nothing to keep
                    logger.warning("object vanished during the backup", extra={"key": obj["Key"]})
                    continue
                reader = _HashingReader(body)
                info = tarfile.TarInfo(f"objects/{obj['Key']}")
                info.size, info.mtime, info.mode = obj["Size"], int(obj["LastModified"].timestamp()), 0o600
                tar.addfile(info, io.BufferedReader(reader, CHUNK))
                if reader.size != obj["Size"]:
                    raise BackupError(f"Объект {obj['Key']} изменился во время копирования.")
                manifest["objects"].append({"key": obj["Key"], "size": reader.size, "sha256": reader.sha.hexdigest()})
                done += 1
                if progress:
                    progress(done, max(total, done))
        _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())


def backup_create(*, destination: Destination | None = None, progress: Progress | None = None) -> BackupResult:
    """Make one encrypted backup, then apply the retention. Raises BackupError (nothing partial
    is left under a backup's name) when any part fails."""
    started = time.monotonic()
    destination = destination or Destination.from_settings()
    recipients = _recipients()
    now = datetime.now(tz=UTC)
    name = f"travelcrm-{now:%Y%m%dT%H%M%SZ}.tar.age"
    workdir = Path(tempfile.mkdtemp(prefix="travelcrm-dump-"))  # 0700 by mkdtemp
    try:
        dump_path = workdir / "database.dump"
        # One snapshot for the row counts, the migration state and pg_dump (--snapshot), so the
        # manifest describes exactly the dump even while the CRM keeps working.
        with transaction.atomic():
            snapshot = queries.export_snapshot()
            counts, migrations = row_counts(), migration_state()
            bucket_total = sum(
                page.get("KeyCount", 0)
                for page in s3_client(timeout=30).get_paginator("list_objects_v2").paginate(Bucket=settings.S3_BUCKET)
            )
            total = len(counts) + bucket_total
            if progress:
                progress(0, total)
            pg_dump = pg_tool("pg_dump")
            env, args = _pg_env_and_args(pg_dump)
            dumped = subprocess.run(  # noqa: S603 — fixed program, arguments from settings
                [pg_dump, "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", *args,
                 "-f", str(dump_path), connection.settings_dict["NAME"]],
                env=env, capture_output=True, text=True, timeout=settings.BACKUP_TIMEOUT_SECONDS,
            )
        if dumped.returncode != 0:
            raise BackupError(f"pg_dump завершился с ошибкой: {dumped.stderr.strip()[:500]}")
        if progress:
            progress(len(counts), total)
        with open(dump_path, "rb") as dump:
            sha = hashlib.file_digest(dump, "sha256").hexdigest()
        manifest = {
            "format": FORMAT,
            "app_version": app_version(),
            "created_at": now.isoformat(),
            "database": {
                "file": "database.dump",
                "size": dump_path.stat().st_size,
                "sha256": sha,
                "server_version": connection.pg_version,
            },
            "migrations": migrations,
            "row_counts": counts,
            "bucket": settings.S3_BUCKET,
            "objects": [],
        }
        _encrypt_stream(destination, name, recipients,
                        lambda out: _write_archive(out, dump_path=dump_path, manifest=manifest,
                                                   progress=progress, total=total))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    deleted = backup_prune(destination=destination)
    result = BackupResult(
        name=name, size=destination.size(name), seconds=round(time.monotonic() - started, 1),
        objects=len(manifest["objects"]), rows=sum(counts.values()), deleted=deleted,
    )
    logger.info("backup written", extra={"backup": name, "size": result.size, "seconds": result.seconds,
                                        "objects": result.objects, "rows": result.rows})
    return result


def _encrypt_stream(destination: Destination, name: str, recipients: list, produce) -> None:
    """Run produce(plain_writer) in a thread, encrypting what it writes straight into the
    destination: the plain archive exists only in a pipe."""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def producer():
        try:
            with os.fdopen(write_fd, "wb", buffering=CHUNK) as plain:
                produce(plain)
        except BaseException as error:  # noqa: BLE001 — handed to the main thread
            failure.append(error)

    thread = threading.Thread(target=producer, name="backup-archive", daemon=True)
    try:
        with destination.writer(name) as encrypted, os.fdopen(read_fd, "rb", buffering=CHUNK) as plain_in:
            thread.start()
            pyrage.encrypt_io(plain_in, encrypted, recipients)
            thread.join()
            if failure:  # the writer's context then removes the partial file
                raise failure[0]
    except BackupError:
        raise
    except Exception as error:
        raise BackupError(f"Копия не записана: {type(error).__name__}: {error}"[:600]) from error


def backup_prune(*, destination: Destination | None = None) -> list[str]:
    destination = destination or Destination.from_settings()
    names = destination.names()
    keep = retention_keep(
        names,
        daily=settings.BACKUP_KEEP_DAILY,
        weekly=settings.BACKUP_KEEP_WEEKLY,
        monthly=settings.BACKUP_KEEP_MONTHLY,
    )
    deleted = [name for name in names if name not in keep]
    for name in deleted:
        destination.delete(name)
    return deleted


# --- Restore --------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    name: str
    seconds: float
    objects: int
    rows: int
    app_version: str
    migrations_behind: list[str]  # migrations this code has that the backup did not: run migrate


def _identities(identity_files: list[str]) -> list:
    identities = []
    for path in identity_files:
        text = Path(path).read_text()
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("AGE-SECRET-KEY-"):
                identities.append(pyrage.x25519.Identity.from_str(line))
        if not identities and "PRIVATE KEY" in text:
            identities.append(pyrage.ssh.Identity.from_buffer(text.encode()))
    if not identities:
        raise BackupError(
            "Нет ключа для расшифровки: укажите файл ключа age (--identity или BACKUP_AGE_IDENTITY_FILE)."
        )
    return identities


def _target_is_empty() -> None:
    if queries.public_tables():
        raise BackupError(
            f"База {connection.settings_dict['NAME']} не пуста: восстановление делается в пустую базу "
            "(создайте новую: createdb, и укажите её в DATABASE_URL)."
        )
    page = s3_client(timeout=30).list_objects_v2(Bucket=settings.S3_BUCKET, MaxKeys=1)
    if page.get("KeyCount"):
        raise BackupError(f"Хранилище {settings.S3_BUCKET} не пусто: восстановление делается в пустой bucket.")


def _read_archive(plain_in, workdir: Path, progress: Progress | None) -> tuple[dict, dict, Path]:
    """Stream the tar: the dump to workdir, objects straight into the bucket (hashed on the way)."""
    client, bucket = s3_client(timeout=60), settings.S3_BUCKET
    seen: dict[str, tuple[int, str]] = {}
    manifest = None
    dump_path = workdir / "database.dump"
    with tarfile.open(fileobj=plain_in, mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            source = tar.extractfile(member)
            if member.name == "database.dump":
                with open(dump_path, "wb") as dump:
                    shutil.copyfileobj(source, dump, CHUNK)
            elif member.name == "manifest.json":
                manifest = json.loads(source.read())
            elif member.name.startswith("objects/"):
                key = member.name[len("objects/"):]
                reader = _HashingReader(source)
                client.upload_fileobj(io.BufferedReader(reader, CHUNK), bucket, key)
                seen[key] = (reader.size, reader.sha.hexdigest())
                if progress:
                    progress(len(seen), 0)
    if manifest is None:
        raise BackupError("В копии нет manifest.json: архив обрезан или это не копия Travel CRM.")
    return manifest, seen, dump_path


def backup_restore(*, source: str, identity_files: list[str], progress: Progress | None = None) -> RestoreResult:
    """Restore a backup file into the EMPTY database and bucket of the current settings, then
    check it against its manifest (dump hash, every object's size and hash, row counts)."""
    started = time.monotonic()
    identities = _identities(identity_files)
    _target_is_empty()
    workdir = Path(tempfile.mkdtemp(prefix="travelcrm-restore-"))
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def decrypt():
        try:
            with open(source, "rb") as encrypted, os.fdopen(write_fd, "wb", buffering=CHUNK) as plain:
                pyrage.decrypt_io(encrypted, plain, identities)
        except BaseException as error:  # noqa: BLE001
            failure.append(error)

    thread = threading.Thread(target=decrypt, name="restore-decrypt", daemon=True)
    thread.start()
    try:
        try:
            with os.fdopen(read_fd, "rb", buffering=CHUNK) as plain_in:
                manifest, seen, dump_path = _read_archive(plain_in, workdir, progress)
        except tarfile.TarError as error:
            raise BackupError(f"Копия повреждена или ключ не подходит: {failure[0] if failure else error}") from None
        thread.join()
        if failure:
            raise BackupError(f"Не удалось расшифровать копию: {failure[0]}")
        _check_files(manifest, seen, dump_path)
        pg_restore = pg_tool("pg_restore")
        env, args = _pg_env_and_args(pg_restore)
        restored = subprocess.run(  # noqa: S603
            [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", *args,
             "-d", connection.settings_dict["NAME"], str(dump_path)],
            env=env, capture_output=True, text=True, timeout=settings.BACKUP_TIMEOUT_SECONDS,
        )
        if restored.returncode != 0:
            raise BackupError(f"pg_restore завершился с ошибкой: {restored.stderr.strip()[:500]}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    connection.close()  # the restored schema: no cached types or prepared statements from before
    counts = row_counts()
    if counts != manifest["row_counts"]:
        differ = sorted(t for t in set(counts) | set(manifest["row_counts"])
                        if counts.get(t) != manifest["row_counts"].get(t))
        raise BackupError(f"Число строк не совпало с копией в таблицах: {', '.join(differ[:10])}")
    behind = _migrations_behind(manifest["migrations"])
    return RestoreResult(
        name=Path(source).name, seconds=round(time.monotonic() - started, 1), objects=len(seen),
        rows=sum(counts.values()), app_version=manifest.get("app_version", ""), migrations_behind=behind,
    )


def _check_files(manifest: dict, seen: dict, dump_path: Path) -> None:
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Неизвестный формат копии: {manifest.get('format')}.")
    with open(dump_path, "rb") as dump:
        if hashlib.file_digest(dump, "sha256").hexdigest() != manifest["database"]["sha256"]:
            raise BackupError("Дамп базы не совпал с контрольной суммой в manifest.json.")
    expected = {o["key"]: (o["size"], o["sha256"]) for o in manifest["objects"]}
    if expected != seen:
        bad = sorted(k for k in set(expected) | set(seen) if expected.get(k) != seen.get(k))
        raise BackupError(f"Файлы не совпали с manifest.json ({len(bad)}): {', '.join(bad[:5])}")


def _migrations_behind(backed_up: dict[str, list[str]]) -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    have = {(app, name) for app, names in backed_up.items() for name in names}
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return sorted(f"{app}.{name}" for app, name in graph.leaf_nodes() if (app, name) not in have)
