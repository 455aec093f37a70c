"""Turn a raw e-mail (bytes) into subject, sender, text and attachments — whatever its MIME.

Malformed MIME, missing or unknown charsets (cp1251, koi8-r, typos) never raise: text falls back
through the declared charset, UTF-8, cp1251 and koi8-r, and at worst keeps replacement characters.
"""

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser


@dataclass
class ParsedFile:
    name: str
    content_type: str
    content: bytes


@dataclass
class ParsedMail:
    message_id: str
    subject: str
    sender_email: str
    sender_name: str
    text: str
    date: object = None
    files: list[ParsedFile] = field(default_factory=list)


def _russian_score(text: str) -> int:
    """Lower-case Cyrillic letters: real Russian text is mostly lower case, mis-decoded text is not."""
    return sum(1 for ch in text if "а" <= ch <= "я" or ch == "ё")


def _guess_single_byte(data: bytes) -> str:
    candidates = [data.decode(name) for name in ("cp1251", "koi8-r")]
    return max(candidates, key=_russian_score)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Declared charset first; an unknown or wrong one falls back to UTF-8, then cp1251/koi8-r by guess."""
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _guess_single_byte(data)


def header_text(value) -> str:
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeDecodeError, ValueError, TypeError):
        parts = []
        for chunk, charset in decode_header(str(value)):
            parts.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
        return "".join(parts)


class _HtmlToText(HTMLParser):
    BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlToText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001, S110 — malformed HTML keeps what was read
        pass
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def _part_text(part: EmailMessage) -> str:
    # Not part.get_content(): it raises on an unknown charset; decode_bytes falls back instead.
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    return decode_bytes(payload, part.get_content_charset())


def _filename(part: EmailMessage, index: int) -> str:
    name = _safe(part.get_filename)  # the policy decodes RFC 2047 and RFC 2231 names
    if name:
        return _readable(str(name))[:200]
    extension = part.get_content_subtype() or "bin"
    return f"attachment_{index}.{extension}"[:200]


_MIME_HEADER_RE = re.compile(r"^(content-[\w-]+|mime-version):", re.IGNORECASE)


def _broken_multipart_text(part: EmailMessage) -> str:
    lines = _part_text(part).splitlines()
    kept = [line for line in lines if not line.startswith("--") and not _MIME_HEADER_RE.match(line)]
    return "\n".join(kept).strip()


def _safe(call, *args):
    """The modern policy's accessors can raise on a malformed message: then it is treated as absent."""
    try:
        return call(*args)
    except (LookupError, ValueError, TypeError, IndexError, AttributeError, KeyError):
        return None


def _readable(text: str) -> str:
    """Raw 8-bit bytes the policy could not decode (kept as surrogates) are guessed like a body."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    return text


def _header(message: EmailMessage, name: str) -> str:
    """The policy decodes the header; an unknown or wrong charset falls back to our guessing decoder."""
    value = _safe(message.get, name)
    if value is not None and "\ufffd" not in str(value) and not getattr(value, "defects", ()):
        return _readable(str(value))
    raw = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    return _readable(header_text(raw)) if raw is not None else ""


class _Collected:
    def __init__(self):
        self.plain: list[str] = []
        self.html: list[str] = []
        self.files: list[ParsedFile] = []

    def add_file(self, part: EmailMessage) -> None:
        content = part.get_payload(decode=True) or b""
        if content or part.is_attachment():
            self.files.append(ParsedFile(_filename(part, len(self.files) + 1), part.get_content_type(), content))

    def add_text(self, part: EmailMessage) -> None:
        target = self.plain if part.get_content_type() == "text/plain" else self.html
        target.append(_part_text(part))


_SKIPPED = ("message/delivery-status",)


def _collect(message: EmailMessage, found: _Collected, depth: int = 0) -> None:
    """The body by get_body(), then iter_attachments(); forwarded and nested parts are walked the same way."""
    if depth > 20:  # a hostile nesting depth: what was collected so far is enough
        return
    content_type = message.get_content_type()
    if content_type.startswith("multipart/") and not message.is_multipart():
        found.plain.append(_broken_multipart_text(message))  # e.g. no boundary: keep what is readable
        return
    body = _safe(message.get_body, ("plain", "html"))
    if body is not None and not _safe(body.get_filename):
        found.add_text(body)
    elif not message.is_multipart() and content_type not in _SKIPPED:
        found.add_file(message)  # a message that is a single file (or a named text part)
    attachments = _safe(lambda: list(message.iter_attachments())) or []
    for part in _safe(lambda: list(message.iter_parts())) or ():  # the body's inline files come first, as before
        if part.is_multipart() and not any(part is seen for seen in attachments):
            _collect_body_files(part, found, depth + 1)
    for part in attachments:
        _collect_part(part, found, depth)


def _collect_body_files(container: EmailMessage, found: _Collected, depth: int) -> None:
    """Files inside the body's own containers (an HTML letter's inline images), kept as files as before."""
    if depth > 20:
        return
    if container.get_content_type() == "multipart/related":
        for part in _safe(lambda: list(container.iter_attachments())) or ():
            _collect_part(part, found, depth)
    for part in _safe(lambda: list(container.iter_parts())) or ():
        if part.is_multipart():
            _collect_body_files(part, found, depth + 1)


def _collect_part(part: EmailMessage, found: _Collected, depth: int) -> None:
    content_type = part.get_content_type()
    if content_type in _SKIPPED:
        return
    if content_type == "message/rfc822" and isinstance(part.get_payload(), list):
        for inner in part.get_payload():  # a forwarded letter: its text and files are the client's too
            _collect(inner, found, depth + 1)
    elif part.is_multipart() or content_type.startswith("multipart/"):
        _collect(part, found, depth + 1)
    elif content_type in ("text/plain", "text/html") and not part.is_attachment() and not _safe(part.get_filename):
        found.add_text(part)  # a second inline text part belongs to the text, as before
    else:
        found.add_file(part)


def _date(message: EmailMessage):
    header = _safe(message.get, "Date")
    value = getattr(header, "datetime", None)
    if value is not None:
        return value
    raw = _header(message, "Date")
    try:
        return parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError, IndexError):
        return None


def parse(raw: bytes) -> ParsedMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    found = _Collected()
    _collect(message, found)
    plain, html = found.plain, found.html
    text = "\n\n".join(t.strip() for t in plain if t.strip()) or "\n\n".join(html_to_text(h) for h in html)
    addresses = getaddresses([_header(message, "From")])
    name, address = addresses[0] if addresses else ("", "")
    return ParsedMail(
        message_id=_header(message, "Message-ID").strip()[:250],
        subject=_header(message, "Subject").strip(),
        sender_email=address.strip().lower(),
        sender_name=name.strip(),
        text=text.strip(),
        date=_date(message),
        files=found.files,
    )
