"""Who saw whose personal data: code that reveals it notes the fact, the audit app writes it down.

A request collects every note (client ids and data categories) in a context variable and the
audit app's middleware writes them as **one** row when the response is ready — one insert per
request however many clients a page shows. Lower apps call `note_personal_data_access` without
knowing about the audit app (house rule 14: they never import it). Outside a request (commands,
jobs) there is no collector and a note is a no-op; such code records its access explicitly.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

PHONE = "phone"
EMAIL = "email"
PASSPORT = "passport"
BIRTH_DATE = "birth_date"
FILES = "files"
MESSENGER = "messenger"
NOTES = "notes"

CATEGORY_LABELS = {
    PHONE: "телефон",
    EMAIL: "e-mail",
    PASSPORT: "паспорт",
    BIRTH_DATE: "дата рождения",
    FILES: "файлы",
    MESSENGER: "мессенджеры",
    NOTES: "заметки",
}

# What a client's card (admin change page, subject export) reveals.
CLIENT_CARD_CATEGORIES = (PHONE, EMAIL, PASSPORT, BIRTH_DATE, FILES, MESSENGER, NOTES)


@dataclass
class AccessNotes:
    client_ids: set[int] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    channel: str = ""  # "export", "download", ... when not a plain page/API read

    def __bool__(self) -> bool:
        return bool(self.client_ids)


_current: ContextVar[AccessNotes | None] = ContextVar("personal_data_access", default=None)


def note_personal_data_access(client_ids: Iterable[int], categories: Iterable[str], *, channel: str = "") -> None:
    """Remember that this request shows these clients' unmasked data of these categories."""
    notes = _current.get()
    if notes is None:
        return
    notes.client_ids.update(client_ids)
    notes.categories.update(categories)
    if channel:
        notes.channel = channel


@contextmanager
def collecting_access() -> Iterator[AccessNotes]:
    """Collect the notes of one request (or one command run) and hand them to the caller."""
    notes = AccessNotes()
    token = _current.set(notes)
    try:
        yield notes
    finally:
        _current.reset(token)
