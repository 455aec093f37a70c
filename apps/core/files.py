"""Stored files: their type decided from their bytes, and the headers every download carries.

Nothing a sender says about a file (its name, its declared Content-Type) decides how it is stored
or served: `sniff_content_type` reads the first bytes (the `filetype` library, plus a plain-text
check it lacks) and answers one of ALLOWED_TYPES, or `application/octet-stream`. Every download —
a pre-signed S3 link or a response streamed by the app — is an attachment with the original,
readable name (`filename*=UTF-8''…`, RFC 6266) and the stored type, with `nosniff`, so a browser
saves the file and never renders it as a page.

Used by the storage backend (apps.core.storage.SafeS3Storage: the type and disposition S3 keeps
with each object), the upload checks of each app, and every download path.
"""

import re
from collections.abc import Iterable
from urllib.parse import quote

import filetype
from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse

OCTET_STREAM = "application/octet-stream"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What may be stored and served under its own type; anything else is stored as octet-stream.
ALLOWED_TYPES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIC",
    "image/tiff": "TIFF",
    DOCX: "DOCX",
    XLSX: "XLSX",
    "text/plain": "текст",
}
# Names a sender may use for the same type (HEIF is HEIC's container; old JPEG spelling).
ALIASES = {"image/heif": "image/heic", "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}

SNIFF_BYTES = 8192  # filetype reads no more; enough to tell a DOCX from another ZIP
# Markup a browser could run or render: never plain text, whatever the bytes decode as.
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|meta|\?xml|a\s|img|style|link"
                     rb"|form|div|span|table|math|xsl)", re.IGNORECASE)


def normalise_declared(content_type: str | None) -> str:
    """'Image/JPG; charset=x' → 'image/jpeg' (what a sender declared, for comparing with the bytes)."""
    value = (content_type or "").split(";")[0].strip().lower()
    return ALIASES.get(value, value)


def _is_plain_text(head: bytes) -> bool:
    if not head or b"\x00" in head or _MARKUP.search(head):
        return False
    for encoding in ("utf-8", "cp1251"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            # A multi-byte character cut at the end of the sniffed window is still text.
            if encoding == "utf-8" and len(head) == SNIFF_BYTES:
                try:
                    text = head[:-3].decode(encoding)
                except UnicodeDecodeError:
                    continue
            else:
                continue
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
        return controls == 0
    return False


def sniff_content_type(head: bytes) -> str:
    """The allowed type the bytes are, else application/octet-stream (never the sender's word)."""
    head = bytes(head[:SNIFF_BYTES])
    if not head:
        return OCTET_STREAM
    kind = filetype.guess(head)
    if kind is not None:
        mime = ALIASES.get(kind.mime, kind.mime)
        return mime if mime in ALLOWED_TYPES else OCTET_STREAM
    return "text/plain" if _is_plain_text(head) else OCTET_STREAM


def sniff_file(file) -> str:
    """sniff_content_type of a file object's first bytes; the position is put back to the start."""
    if hasattr(file, "seek"):
        file.seek(0)
    head = file.read(SNIFF_BYTES)
    if hasattr(file, "seek"):
        file.seek(0)
    if isinstance(head, str):
        head = head.encode("utf-8")
    return sniff_content_type(head or b"")


# --- Downloads -------------------------------------------------------------------------------------


def safe_filename(name: str, default: str = "file") -> str:
    """A readable file name without path parts or characters a header or a file system chokes on."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*')
    return name.strip(" .")[:200] or default


def content_disposition(filename: str) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''<percent-encoded original>` (RFC 6266 / 5987)."""
    name = safe_filename(filename)
    fallback = name.encode("ascii", "ignore").decode() or "file"
    fallback = safe_filename(fallback.replace("%", ""), default="file")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def served_type(content_type: str | None) -> str:
    """The Content-Type a stored file is served with: an allowed type, else octet-stream."""
    value = normalise_declared(content_type)
    return value if value in ALLOWED_TYPES else OCTET_STREAM


def download_headers(filename: str, content_type: str | None) -> dict[str, str]:
    content = served_type(content_type)
    if content == "text/plain":
        content = "text/plain; charset=utf-8"
    return {
        "Content-Type": content,
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
    }


def presigned_download_url(key: str, *, filename: str, content_type: str | None, expire: int | None = None,
                           storage=None) -> str:
    """An expiring download link. Encrypted storage: a link to the app, which decrypts and streams
    (S3 holds only ciphertext); otherwise S3's pre-signed GET with our disposition and type."""
    headers = download_headers(filename, content_type)
    storage = storage or default_storage
    if getattr(storage, "encrypts", False) and settings.FILE_ENCRYPTION:
        return app_download_url(key, filename=filename, content_type=content_type,
                                expire=expire or getattr(storage, "querystring_expire", 900))
    return storage.url(key, parameters={
        "ResponseContentDisposition": headers["Content-Disposition"],
        "ResponseContentType": headers["Content-Type"],
    }, expire=expire)


def streamed_download(handle: Iterable[bytes], *, filename: str, content_type: str | None) -> FileResponse:
    """A response streaming the file through the app (no pre-signed link), with the same headers."""
    headers = download_headers(filename, content_type)
    response = FileResponse(handle, content_type=headers["Content-Type"])
    response["Content-Disposition"] = headers["Content-Disposition"]
    response["X-Content-Type-Options"] = headers["X-Content-Type-Options"]
    return response


def attach_download_headers(response, filename: str):
    """Give a response the app built itself (CSV, XLSX, a PDF in memory) the download headers."""
    response["Content-Disposition"] = content_disposition(filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Links to files the app decrypts and streams ------------------------------------------------------


def app_download_url(key: str, *, filename: str, content_type: str | None, expire: int) -> str:
    """/files/<token>/: the token is Fernet-encrypted (the key and the original name are not readable
    in the link, and it cannot be forged) and expires like a pre-signed link."""
    import json
    import time

    from django.urls import reverse

    from apps.core.crypto import encrypt_str

    payload = json.dumps({"k": key, "n": filename, "t": content_type or "", "e": int(time.time()) + int(expire)})
    return reverse("file-download", args=[encrypt_str(payload)])


def app_download_payload(token: str) -> dict | None:
    """The link's {k, n, t} while it is valid, else None."""
    import json
    import time

    from apps.core.crypto import UndecryptableValueError, decrypt_str

    try:
        payload = json.loads(decrypt_str(token))
    except (UndecryptableValueError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("e", 0) < time.time():
        return None
    return payload
