"""Object storage helpers (S3 / MinIO / SeaweedFS) shared by every app that keeps files."""

import uuid
from pathlib import PurePosixPath

import boto3
from botocore.config import Config
from django.conf import settings
from storages.backends.s3 import S3Storage

from apps.core.files import sniff_file


class SafeS3Storage(S3Storage):
    """The S3 backend, keeping with each object a type decided from its bytes and `attachment`.

    django-storages would store the sender's declared type or guess one from the key's extension
    (`leads/….html` → text/html): an object opened straight from S3 could then render as a page.
    """

    def _get_write_parameters(self, name, content=None):
        params = super()._get_write_parameters(name, content)
        if content is not None:
            params["ContentType"] = sniff_file(content)
            params.pop("ContentEncoding", None)  # a guessed ".gz" encoding is the sender's word too
            params["ContentDisposition"] = "attachment"
        return params


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
