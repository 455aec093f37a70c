"""Files encrypted at rest: envelope format, storage round trip, no plaintext in S3, links, rotation."""

import io
import os

import pytest
from botocore.exceptions import ClientError
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from apps.core import envelope
from apps.core.files import presigned_download_url
from apps.core.models import StoredObjectKey
from apps.core.storage import ensure_bucket, random_key, s3_client

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(200_000)
PDF = b"%PDF-1.7\n" + b"Passport 4510 123456 Ivanov Ivan\n" * 5000


@pytest.fixture
def bucket():
    try:
        ensure_bucket()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise


def _raw(key: str) -> bytes:
    return s3_client().get_object(Bucket=settings.S3_BUCKET, Key=key)["Body"].read()


@pytest.mark.parametrize("size", [0, 1, envelope.CHUNK - 1, envelope.CHUNK, envelope.CHUNK + 1, 3 * envelope.CHUNK + 7])
def test_envelope_round_trip(size):
    key = envelope.new_data_key()
    data = os.urandom(size)
    sealed = envelope.encrypt_bytes(data, key)
    assert sealed.startswith(envelope.MAGIC)
    # A byte or two of plaintext turns up in random ciphertext by chance (1 in ~8 runs for one byte):
    # only a run long enough to mean something is checked for.
    if size >= 16:
        assert data not in sealed
    assert envelope.decrypt_bytes(sealed, key) == data
    reader = envelope.DecryptingReader(io.BytesIO(sealed), key)
    assert b"".join(iter(lambda: reader.read(1000), b"")) == data


def test_tampered_truncated_or_wrong_key_fails():
    key = envelope.new_data_key()
    sealed = bytearray(envelope.encrypt_bytes(os.urandom(3 * envelope.CHUNK), key))
    with pytest.raises(envelope.DecryptionError):
        envelope.decrypt_bytes(bytes(sealed), envelope.new_data_key())
    flipped = bytearray(sealed)
    flipped[100] ^= 1
    with pytest.raises(envelope.DecryptionError):
        envelope.decrypt_bytes(bytes(flipped), key)
    # Dropping the last frame: the previous one was not sealed as final.
    last_frame = len(sealed) - (envelope.TAG + 4) - 0
    with pytest.raises(envelope.DecryptionError):
        envelope.decrypt_bytes(bytes(sealed[: last_frame]), key)


def test_stored_objects_hold_no_plaintext_and_read_back(bucket):
    # The whole file header, not just its 3-byte magic: 3 bytes turn up in 200 KB of random
    # ciphertext by chance about 1 run in 80 (seen in CI); the 11-byte JFIF header never does.
    for content, magic in ((PDF, b"%PDF-1.7\n"), (JPEG, JPEG[:11])):
        key = default_storage.save(random_key("test", "x.bin"), ContentFile(content))
        raw = _raw(key)
        assert raw.startswith(envelope.MAGIC)
        assert magic not in raw and b"Passport" not in raw
        with default_storage.open(key, "rb") as handle:
            assert handle.read() == content
        assert StoredObjectKey.objects.filter(key=key).exists()
        default_storage.delete(key)
        assert not StoredObjectKey.objects.filter(key=key).exists()
        assert not default_storage.exists(key)


def test_download_link_goes_through_the_app_and_expires(client, bucket, settings):
    key = default_storage.save(random_key("test", "scan.pdf"), ContentFile(PDF))
    url = presigned_download_url(key, filename="Паспорт Иванова.pdf", content_type="application/pdf")
    assert url.startswith("/files/") and "Иванова" not in url and key not in url
    response = client.get(url)
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf" and "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    expired = presigned_download_url(key, filename="a.pdf", content_type="application/pdf", expire=-1)
    assert client.get(expired).status_code == 404
    assert client.get("/files/forged-token/").status_code == 404
    default_storage.delete(key)
    assert client.get(url).status_code == 404


def test_rotate_encryption_keys_covers_file_keys(bucket, settings):
    old = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [old]
    key = default_storage.save(random_key("test", "scan.jpg"), ContentFile(JPEG))
    raw_before = _raw(key)
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), old]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEY = settings.FIELD_ENCRYPTION_KEY[:1]  # the old key is gone
    with default_storage.open(key, "rb") as handle:
        assert handle.read() == JPEG
    assert _raw(key) == raw_before  # the object itself was not rewritten
    default_storage.delete(key)


def test_encrypt_stored_files_encrypts_what_was_stored_before(bucket, settings, monkeypatch):
    from apps.core.management.commands.encrypt_stored_files import Command

    settings.FILE_ENCRYPTION = False
    key = default_storage.save(random_key("test", "old.pdf"), ContentFile(PDF))
    assert _raw(key).startswith(b"%PDF")
    settings.FILE_ENCRYPTION = True
    monkeypatch.setattr(Command, "_plaintext_keys", staticmethod(lambda: {key}))  # only this test's object
    out = io.StringIO()
    call_command("encrypt_stored_files", stdout=out)
    assert "Encrypted: 1" in out.getvalue()
    assert _raw(key).startswith(envelope.MAGIC)
    with default_storage.open(key, "rb") as handle:
        assert handle.read() == PDF
    default_storage.delete(key)
