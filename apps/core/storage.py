"""Object storage helpers (S3 / MinIO / SeaweedFS) shared by every app that keeps files."""

import base64
import io
import uuid
from pathlib import PurePosixPath

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.base import File
from storages.backends.s3 import S3Storage
from storages.utils import ReadBytesWrapper, clean_name, is_seekable

from apps.core.envelope import CHUNK, DecryptingReader, EncryptingReader, encrypt_bytes, new_data_key
from apps.core.files import sniff_file


class SafeS3Storage(S3Storage):
    """The S3 backend: every object encrypted by the app before it leaves (apps.core.envelope),
    with `attachment` and an opaque type, and decrypted as a stream on open.

    Objects stored before encryption was switched on (no data key row) are read as they are.

    django-storages would store the sender's declared type or guess one from the key's extension
    (`leads/….html` → text/html): an object opened straight from S3 could then render as a page.
    """

    encrypts = True

    def _get_write_parameters(self, name, content=None):
        params = super()._get_write_parameters(name, content)
        if content is not None:
            encrypted = isinstance(getattr(content, "file", content), EncryptingReader)
            params["ContentType"] = "application/octet-stream" if encrypted else sniff_file(content)
            params.pop("ContentEncoding", None)  # a guessed ".gz" encoding is the sender's word too
            params["ContentDisposition"] = "attachment"
        return params

    def _save(self, name, content):
        if not settings.FILE_ENCRYPTION:
            return super()._save(name, content)
        from apps.core.models import StoredObjectKey

        data_key = new_data_key()
        if is_seekable(content):
            content.seek(0)
        saved = super()._save(name, File(EncryptingReader(ReadBytesWrapper(content), data_key), name=name))
        StoredObjectKey.objects.update_or_create(
            key=clean_name(saved), defaults={"data_key": base64.b64encode(data_key).decode("ascii")}
        )
        return saved

    def put_bytes(self, key: str, data: bytes) -> str:
        """Store a small file in one PutObject (no transfer manager and its threads), encrypted like
        every save. Returns the key."""
        from apps.core.models import StoredObjectKey

        params = {"ContentDisposition": "attachment"}
        if settings.FILE_ENCRYPTION:
            data_key = new_data_key()
            body = encrypt_bytes(data, data_key)
            params["ContentType"] = "application/octet-stream"
        else:
            body, params["ContentType"] = data, sniff_file(io.BytesIO(data))
        self.connection.meta.client.put_object(Bucket=self.bucket_name, Key=key, Body=body, **params)
        if settings.FILE_ENCRYPTION:
            StoredObjectKey.objects.update_or_create(
                key=key, defaults={"data_key": base64.b64encode(data_key).decode("ascii")}
            )
        return key

    def _open(self, name, mode="rb"):
        data_key = _data_key(name)
        if data_key is None:
            return super()._open(name, mode)  # stored before encryption: read as it is
        key = self._normalize_name(clean_name(name))
        try:
            body = self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=key)["Body"]
        except ClientError as err:
            if err.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise FileNotFoundError(f"File does not exist: {name}") from None
            raise
        return File(io.BufferedReader(DecryptingReader(body, data_key), buffer_size=CHUNK), name=name)

    def delete(self, name):
        super().delete(name)
        from apps.core.models import StoredObjectKey

        StoredObjectKey.objects.filter(key=clean_name(name)).delete()


def _data_key(name: str) -> bytes | None:
    from apps.core.models import StoredObjectKey

    row = StoredObjectKey.objects.filter(key=clean_name(name)).values_list("data_key", flat=True).first()
    return base64.b64decode(row) if row else None


def s3_client(timeout: float = 10):
    """A boto3 client built from the same options as the default storage."""
    options = settings.STORAGES["default"]["OPTIONS"]
    return boto3.client(
        "s3",
        endpoint_url=options["endpoint_url"],
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
        region_name=options["region_name"],
        config=Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 1},
            s3={"addressing_style": "path"},
        ),
    )


def keys_older_than(prefix: str, before) -> list[str]:
    """Keys of the bucket's objects under `prefix` last written before `before` (retention's sweeps
    of files that no row names)."""
    stale = []
    for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=settings.S3_BUCKET, Prefix=prefix):
        stale += [item["Key"] for item in page.get("Contents", []) if item["LastModified"] < before]
    return stale


def ensure_bucket() -> None:
    """Create the configured bucket if it does not exist (idempotent)."""
    client = s3_client()
    existing = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
    if settings.S3_BUCKET not in existing:
        client.create_bucket(Bucket=settings.S3_BUCKET)


SAFE_SUFFIXES = frozenset({
    ".pdf", ".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".tif", ".tiff", ".docx", ".xlsx", ".txt", ".csv",
})


def random_key(prefix: str, original_name: str = "") -> str:
    """A storage key that never carries personal data: prefix/uuid.ext (house rule: random keys)."""
    suffix = PurePosixPath(original_name).suffix.lower()[:10] if original_name else ""
    # Only a harmless extension is kept: some S3 servers derive the served type from the key's
    # extension whatever type was stored (SeaweedFS serves `….html` as text/html).
    if suffix not in SAFE_SUFFIXES:
        suffix = ""
    return f"{prefix}/{uuid.uuid4().hex}{suffix}"
