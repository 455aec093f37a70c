"""Object storage helpers (S3 / MinIO / SeaweedFS) shared by every app that keeps files."""

import uuid
from pathlib import PurePosixPath

import boto3
from botocore.config import Config
from django.conf import settings


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


def random_key(prefix: str, original_name: str = "") -> str:
    """A storage key that never carries personal data: prefix/uuid.ext (house rule: random keys)."""
    suffix = PurePosixPath(original_name).suffix.lower()[:10] if original_name else ""
    return f"{prefix}/{uuid.uuid4().hex}{suffix}"
