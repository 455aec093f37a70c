"""The sender's contact data: normalised, blind-indexed, ready for lookups.

Senders write what they like; a value that does not normalise is kept as given (encrypted) but
gets no blind index, so it never matches anything. Staff input (strict=True) is refused instead.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from apps.core.crypto import blind_index
from apps.core.normalize import normalize_email, normalize_phone, normalize_telegram

# lead field holding the value, lead field holding its blind index, blind-index kind
CONTACT_FIELDS = (
    ("contact_phone", "phone_index", "phone"),
    ("contact_email", "email_index", "email"),
    ("contact_telegram", "telegram_index", "telegram"),
    ("contact_whatsapp", "whatsapp_index", "whatsapp"),
)


def _whatsapp(value: str) -> str:
    """A WhatsApp id is the phone number in international form, digits only."""
    raw = str(value or "").strip()
    return normalize_phone(raw if raw.startswith("+") else "+" + raw)


_NORMALISERS = {
    "phone": normalize_phone,
    "email": normalize_email,
    "telegram": lambda value: normalize_telegram(str(value)),
    "whatsapp": _whatsapp,
}

# WhatsApp ids are phone numbers: indexed in the phone namespace, as the clients app does.
_INDEX_NAMESPACE = {"phone": "phone", "whatsapp": "phone", "email": "email", "telegram": "telegram"}

# keys of the sender dict per kind (channels name them slightly differently)
_SENDER_KEYS = {
    "phone": ("phone",),
    "email": ("email",),
    "telegram": ("telegram_id", "telegram"),
    "whatsapp": ("whatsapp_id", "whatsapp"),
}


@dataclass
class ContactValue:
    value: str  # normalised when valid, else as given
    index: str  # blind index; "" when the value did not normalise


@dataclass
class SenderContacts:
    name: str
    values: dict[str, ContactValue]
    telegram_username: str = ""  # only for finding the client (a client may be saved as @username)

    def fields(self):
        """(value field, index field, value, index) for each kind."""
        for value_field, index_field, kind in CONTACT_FIELDS:
            contact = self.values.get(kind)
            yield value_field, index_field, (contact.value if contact else ""), (contact.index if contact else "")

    def _indexed(self, kind: str) -> list[str]:
        contact = self.values.get(kind)
        return [contact.value] if contact and contact.index else []

    def phones(self) -> list[str]:
        # a WhatsApp sender's id is their phone number: it finds a client by phone too
        return sorted(set(self._indexed("phone") + self._indexed("whatsapp")))

    def emails(self) -> list[str]:
        return self._indexed("email")

    def telegram_ids(self) -> list[str]:
        return self._indexed("telegram") + ([self.telegram_username] if self.telegram_username else [])

    def whatsapp_ids(self) -> list[str]:
        return self._indexed("whatsapp")

    def has_lookup_values(self) -> bool:
        return bool(self.telegram_username) or any(contact.index for contact in self.values.values())

    def lock_keys(self) -> set[str]:
        return {f"{_INDEX_NAMESPACE[kind]}:{contact.index}" for kind, contact in self.values.items() if contact.index}

    def lead_terms(self) -> list[tuple[str, list[str]]]:
        """Leads of the same sender: (lead index column, blind indexes) pairs, any one matching.

        Any blind index in common counts; a WhatsApp id is a phone number, so phone-like indexes
        are looked up in both the phone and the WhatsApp column.
        """
        terms = []
        phone_like = [self.values[kind].index for kind in ("phone", "whatsapp") if self._has_index(kind)]
        if phone_like:
            terms += [("phone_index", phone_like), ("whatsapp_index", phone_like)]
        if self._has_index("email"):
            terms.append(("email_index", [self.values["email"].index]))
        if self._has_index("telegram"):
            terms.append(("telegram_index", [self.values["telegram"].index]))
        return terms

    def _has_index(self, kind: str) -> bool:
        contact = self.values.get(kind)
        return bool(contact and contact.index)


def sender_contacts(sender: dict, *, strict: bool = False) -> SenderContacts:
    """Normalise a sender dict {name, phone, email, telegram_id, whatsapp_id}.

    strict=True (staff input) raises ValidationError {field: [message]} for invalid values.
    """
    values: dict[str, ContactValue] = {}
    errors: dict[str, list[str]] = {}
    for value_field, _index_field, kind in CONTACT_FIELDS:
        raw = next((sender.get(key) for key in _SENDER_KEYS[kind] if sender.get(key) not in (None, "")), "")
        raw = str(raw).strip()
        if not raw:
            continue
        try:
            normalised = _NORMALISERS[kind](raw)
        except ValidationError as error:
            if strict:
                errors[value_field] = list(error.messages)
            values[kind] = ContactValue(value=raw[:64] if kind != "email" else raw[:254], index="")
            continue
        values[kind] = ContactValue(value=normalised, index=blind_index(_INDEX_NAMESPACE[kind], normalised))
    if errors:
        raise ValidationError(errors)
    name = " ".join(str(sender.get("name") or "").split())[:200]
    return SenderContacts(name=name, values=values, telegram_username=_username(sender.get("telegram_username")))


def _username(value) -> str:
    try:
        return normalize_telegram(str(value)) if value else ""
    except ValidationError:
        return ""
