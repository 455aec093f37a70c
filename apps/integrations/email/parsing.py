"""Turn a raw e-mail (bytes) into subject, sender, text and attachments — whatever its MIME.

Malformed MIME, missing or unknown charsets (cp1251, koi8-r, typos) never raise: text falls back
through the declared charset, UTF-8, cp1251 and koi8-r, and at worst keeps replacement characters.
"""

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
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


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    return decode_bytes(payload, part.get_content_charset())


def _filename(part: Message, index: int) -> str:
    name = part.get_filename()
    if name:
        return header_text(name)[:200]
    extension = part.get_content_subtype() or "bin"
    return f"attachment_{index}.{extension}"[:200]


_MIME_HEADER_RE = re.compile(r"^(content-[\w-]+|mime-version):", re.IGNORECASE)


def _broken_multipart_text(part: Message) -> str:
    lines = _part_text(part).splitlines()
    kept = [line for line in lines if not line.startswith("--") and not _MIME_HEADER_RE.match(line)]
    return "\n".join(kept).strip()


def parse(raw: bytes) -> ParsedMail:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    plain, html, files = [], [], []
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        disposition = (part.get("Content-Disposition") or "").lower()
        content_type = part.get_content_type()
        if "attachment" in disposition or part.get_filename():
            content = part.get_payload(decode=True) or b""
            files.append(ParsedFile(_filename(part, index), content_type, content))
        elif content_type == "text/plain":
            plain.append(_part_text(part))
        elif content_type == "text/html":
            html.append(_part_text(part))
        elif content_type.startswith("multipart/"):
            plain.append(_broken_multipart_text(part))  # e.g. no boundary: keep what is readable
        elif not content_type.startswith("multipart/") and content_type not in ("message/delivery-status",):
            content = part.get_payload(decode=True) or b""
            if content:
                files.append(ParsedFile(_filename(part, index), content_type, content))
    text = "\n\n".join(t.strip() for t in plain if t.strip()) or "\n\n".join(html_to_text(h) for h in html)
    addresses = getaddresses([header_text(message.get("From"))])
    name, address = addresses[0] if addresses else ("", "")
    try:
        date = parsedate_to_datetime(message.get("Date")) if message.get("Date") else None
    except (TypeError, ValueError, IndexError):
        date = None
    return ParsedMail(
        message_id=(message.get("Message-ID") or "").strip()[:250],
        subject=header_text(message.get("Subject")).strip(),
        sender_email=address.strip().lower(),
        sender_name=name.strip(),
        text=text.strip(),
        date=date,
        files=files,
    )
