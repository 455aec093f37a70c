"""Structured logging: one JSON object per line, a request id on every line, no personal data.

- RequestIdMiddleware takes X-Request-ID (or makes one), returns it in the response header and
  writes one access line per request (method, path, status, duration_ms, user_id).
- RequestContextFilter stamps request_id and user_id on every record logged during the request.
- PersonalDataFilter scrubs e-mails, phone numbers, passport numbers, passwords and tokens from
  the message and every extra field, whatever logger produced them. Query strings are decoded
  first (a phone arrives as %2B7916…), and the values of parameters that name personal data
  (?phone=, ?email=, ?passport=, ?search= …) are masked whatever they look like.

settings.LOGGING sends Django's own loggers (the development server's request lines included)
through the same handler, so no line reaches the output unfiltered or outside JSON.
"""

import fcntl
import json
import logging
import logging.handlers
import os
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from urllib.parse import parse_qsl

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_logger = logging.getLogger("travelcrm.request")


def current_request_id() -> str | None:
    return request_id_var.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        rid_token = request_id_var.set(request_id)
        uid_token = user_id_var.set(None)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            user = getattr(request, "user", None)
            if user is not None and getattr(user, "is_authenticated", False):
                user_id_var.set(user.pk)
            access_logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(rid_token)
            user_id_var.reset(uid_token)


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs 4xx/5xx after the middleware has returned; it passes the request.
        request = getattr(record, "request", None)
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or getattr(request, "request_id", None)
        if not hasattr(record, "user_id"):
            user = getattr(request, "user", None)
            record.user_id = user_id_var.get() or (user.pk if getattr(user, "is_authenticated", False) else None)
        return True


MASK = "***"
_PATTERNS = [
    # key=value / "key": "value" pairs whose key names a secret
    (
        re.compile(
            r"(?i)(\"?(?:password|passwd|pwd|secret|token|api[_-]?key|authorization|access|refresh"
            r"|api_token|admin_password)\"?\s*[:=]\s*\"?)(Bearer\s+)?[^\s\",;&}]+"
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"(?i)\bBearer\s+[A-Za-z0-9\-_.=]+"), "Bearer " + MASK),
    # JWTs and Telegram bot tokens anywhere
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), MASK),
    (re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"), MASK),
    # e-mail addresses
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    # passports: "45 12 345678", "4512 345678", foreign "75 1234567", letters+digits "AB1234567"
    # (before phones: a Russian passport has the 10 digits of a phone number)
    (re.compile(r"(?<![\w+])\d{2}\s?\d{2}\s?\d{6}(?![\w-])"), "[passport]"),
    (re.compile(r"(?<![\w+])\d{2}\s?\d{7}(?![\w-])"), "[passport]"),
    (re.compile(r"(?<!\w)[A-Z]{1,2}\d{6,9}(?!\w)"), "[passport]"),
    # phone numbers: +7 916 123-45-67, 8 (916) 123 45 67, 79161234567 ...
    (re.compile(r"(?<![\w/])\+?\d[\d\s().-]{8,17}\d(?![\w/])"), lambda m: _phone_or_keep(m.group(0))),
]


_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_YEAR_NUMBER_RE = re.compile(r"^(?:19|20)\d{2}-\d+$")  # order / lead numbers such as 2026-000123


def _phone_or_keep(candidate: str) -> str:
    # Dates, durations and document numbers share the shape; a phone number has 10 to 15 digits.
    if _ISO_DATE_RE.match(candidate) or _YEAR_NUMBER_RE.match(candidate):
        return candidate
    digits = sum(ch.isdigit() for ch in candidate)
    return "[phone]" if 10 <= digits <= 15 else candidate


# Extra attributes that are ours and never carry personal data.
_SAFE_EXTRAS = {"request_id", "user_id", "method", "status", "duration_ms"}
# Extra attributes Django passes that are objects, not data for a log line.
_DROPPED_EXTRAS = {"request"}


# A URL's query string inside any text: "?a=1&b=2" up to a space, a quote or the end.
_QUERY_RE = re.compile(r"\?([^\s\"'<>?#]*=[^\s\"'<>#]*)")
# Query parameters whose value is personal data or a secret, whatever it looks like.
_SENSITIVE_PARAM_RE = re.compile(
    r"(?i)(phone|tel|mail|passport|search|^q$|name|birth|inn|account|contact|whatsapp|telegram|address"
    r"|password|token|secret|key|code|signature)"
)


def _scrub_query(match: re.Match) -> str:
    pairs = parse_qsl(match.group(1), keep_blank_values=True)
    if not pairs:
        return match.group(0)
    shown = [f"{_scrub_plain(key)}={MASK if _SENSITIVE_PARAM_RE.search(key) else _scrub_plain(value)}"
             for key, value in pairs]
    return "?" + "&".join(shown)


def _scrub_plain(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub(text: str) -> str:
    return _scrub_plain(_QUERY_RE.sub(_scrub_query, text))


def _scrub_value(value):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Any other object would be written as str(value) by the formatter: scrub that text now.
    return scrub(str(value))


class PersonalDataFilter(logging.Filter):
    """Rewrites each record so that no handler ever sees personal data or secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        record.exc_info = None
        for key, value in list(record.__dict__.items()):
            if key in _DROPPED_EXTRAS:
                # django.request's HttpRequest (path and query) and runserver's socket (the client's
                # address): the line's request_id already ties it to its request.
                delattr(record, key)
            elif key not in _STANDARD_ATTRS and key not in _SAFE_EXTRAS:
                setattr(record, key, _scrub_value(value))
        return True


_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A size-rotated log file that several processes (gunicorn workers, job workers) append to.

    Plain RotatingFileHandler rotates per process: two processes rename the same file and lines
    written in between land in a file that is renamed away again. Here every write and rotation
    happens under an exclusive lock on `<file>.lock`, and a process whose file was rotated by
    another one reopens the new file first — so no line is lost or doubled at the boundary.
    For logrotate instead (docs/logrotate.example), set LOG_FILE_MAX_BYTES=0: the handler then
    only reopens the file once logrotate has moved it.
    """

    def __init__(self, filename, maxBytes=0, backupCount=0, encoding="utf-8"):  # noqa: N803 — logging's names
        super().__init__(filename, maxBytes=maxBytes, backupCount=backupCount, encoding=encoding, delay=True)
        self._lock_path = f"{self.baseFilename}.lock"
        self._lock_file = None
        self._lock_pid = None

    def _interprocess_lock(self):
        if self._lock_file is None or self._lock_pid != os.getpid():  # a fork gets its own descriptor
            self._lock_file = open(self._lock_path, "a")  # noqa: SIM115 — held for the process's life
            self._lock_pid = os.getpid()
        return self._lock_file

    def _reopen_if_moved(self) -> None:
        if self.stream is None:
            return
        try:
            moved = os.stat(self.baseFilename).st_ino != os.fstat(self.stream.fileno()).st_ino
        except FileNotFoundError:
            moved = True
        if moved:
            self.stream.close()
            self.stream = None  # reopened by emit (delay=True)

    def emit(self, record):
        lock = self._interprocess_lock()
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            self._reopen_if_moved()
            super().emit(record)
            if self.stream is not None:
                self.stream.flush()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

    def shouldRollover(self, record):  # noqa: N802
        if self.maxBytes <= 0:
            return False
        if self.stream is None:
            self.stream = self._open()
        # The size on disk, not this process's offset: the others wrote too.
        return os.fstat(self.stream.fileno()).st_size + len(self.format(record)) + 1 >= self.maxBytes
