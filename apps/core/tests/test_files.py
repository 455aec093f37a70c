"""apps.core.files: a stored file's type comes from its bytes; every download is an attachment."""

import io
import urllib.parse
import urllib.request
import zipfile

import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.core.files import (
    DOCX,
    OCTET_STREAM,
    XLSX,
    content_disposition,
    download_headers,
    presigned_download_url,
    sniff_content_type,
    sniff_file,
)
from apps.core.storage import ensure_bucket, random_key, s3_client

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 16
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"
TIFF = b"II*\x00" + b"\x00" * 20
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 10
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def _zip(*entries: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in entries:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bucket():
    try:
        ensure_bucket()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise


@pytest.mark.parametrize(("content", "expected"), [
    (PDF, "application/pdf"),
    (PNG, "image/png"),
    (JPEG, "image/jpeg"),
    (TIFF, "image/tiff"),
    (HEIC, "image/heic"),
    (WEBP, "image/webp"),
    (_zip("[Content_Types].xml", "_rels/.rels", "word/document.xml"), DOCX),
    (_zip("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"), XLSX),
    ("Здравствуйте! Нужен тур в Сочи на 7 ночей.\r\n".encode(), "text/plain"),
    ("Фамилия;Имя\r\nИванов;Иван\r\n".encode("cp1251"), "text/plain"),
    (HTML, OCTET_STREAM),
    (b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", OCTET_STREAM),
    (b"<?xml version='1.0'?><x/>", OCTET_STREAM),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", OCTET_STREAM),  # a Windows executable
    (_zip("payload.js"), OCTET_STREAM),  # a plain ZIP is not on the list
    (b"GIF89a\x01\x00\x01\x00", OCTET_STREAM),  # a real image, but not one we keep
    (b"", OCTET_STREAM),
])
def test_type_is_decided_from_the_bytes(content, expected):
    assert sniff_content_type(content) == expected


def test_sniff_file_puts_the_position_back():
    handle = io.BytesIO(PNG)
    assert sniff_file(handle) == "image/png" and handle.tell() == 0


def test_content_disposition_keeps_the_readable_name_and_an_ascii_fallback():
    value = content_disposition("Счёт 2026-000123 v2.pdf")
    assert value.startswith("attachment; ")
    assert "filename*=UTF-8''%D0%A1%D1%87%D1%91%D1%82%202026-000123%20v2.pdf" in value
    assert 'filename="2026-000123 v2.pdf"' in value
    # No path, no quote or header injection from a sender's file name.
    hostile = content_disposition('../../etc/"passwd"\r\nSet-Cookie: x=1.html')
    assert "\r" not in hostile and "\n" not in hostile and '"passwd"' not in hostile and "../" not in hostile


def test_download_headers_never_serve_an_unknown_type_as_itself():
    assert download_headers("x.html", "text/html")["Content-Type"] == OCTET_STREAM
    assert download_headers("x.pdf", "application/pdf")["Content-Type"] == "application/pdf"
    assert download_headers("x.txt", "text/plain")["X-Content-Type-Options"] == "nosniff"


def test_random_keys_keep_only_harmless_extensions():
    assert random_key("leads", "скан.PDF").endswith(".pdf")
    for name in ("page.html", "x.svg", "a.js", "noext"):
        key = random_key("leads", name)
        assert "." not in key.rsplit("/", 1)[-1], key


@pytest.mark.django_db
def test_stored_object_type_comes_from_its_bytes_not_its_name(bucket, settings):
    """HTML sent as «page.html», declared image/tiff, is kept as octet-stream + attachment (the
    unencrypted mode; encrypted objects are always opaque octet-stream, apps/core/tests/test_file_encryption.py)."""
    settings.FILE_ENCRYPTION = False
    upload = ContentFile(HTML, name="page.html")
    upload.content_type = "image/tiff"
    key = default_storage.save(random_key("probe", "page.html"), upload)
    png_key = default_storage.save(random_key("probe", "scan"), ContentFile(PNG))
    try:
        head = s3_client().head_object(Bucket=settings.S3_BUCKET, Key=key)
        assert head["ContentType"] == OCTET_STREAM and head["ContentDisposition"] == "attachment"
        assert s3_client().head_object(Bucket=settings.S3_BUCKET, Key=png_key)["ContentType"] == "image/png"
    finally:
        default_storage.delete(key)
        default_storage.delete(png_key)


@pytest.mark.django_db
def test_presigned_link_serves_an_attachment_with_the_original_name(bucket, settings):
    settings.FILE_ENCRYPTION = False  # S3's own pre-signed link (encrypted files are streamed by the app)
    key = default_storage.save(random_key("probe", "x.pdf"), ContentFile(PDF))
    try:
        url = presigned_download_url(key, filename="Договор 2026-000123 v1.pdf", content_type="application/pdf")
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our local S3)
            assert response.read() == PDF
            disposition = response.headers["Content-Disposition"]
            assert response.headers["Content-Type"] == "application/pdf"
        assert disposition.startswith("attachment;")
        encoded = disposition.split("filename*=UTF-8''", 1)[1]
        assert urllib.parse.unquote(encoded) == "Договор 2026-000123 v1.pdf"
    finally:
        default_storage.delete(key)
