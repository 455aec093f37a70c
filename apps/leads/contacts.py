"""The sender's contact data: normalised, blind-indexed, ready for lookups.

Senders write what they like; a value that does not normalise is kept as given (encrypted) but
gets no blind index, so it never matches anything. Staff input (strict=True) is refused instead.

Verified and claimed identity: a channel vouches for some of the sender's values (Telegram's
`from.id`, WhatsApp's `wa_id`, a Telegram contact the sender shared of themselves); everything else
(a web form's or an e-mail's phone and address, a contact of somebody else) is only claimed. Only
verified values find the sender's open lead or link a client on their own; claimed ones only
suggest a client or a possible duplicate to a person (apps.leads.services).
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from apps.core.crypto import blind_index, blind_index_candidates
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
    # Indexes a lookup accepts: `index`, and while BLIND_INDEX_KEY is rotated the old key's too
    # (a lead written before the rotation reached it is still found).
    candidates: tuple[str, ...] = ()

    def lookup_indexes(self) -> tuple[str, ...]:
        return self.candidates or ((self.index,) if self.index else ())


# The kinds a channel vouches for by itself (its transport authenticates them); the caller may
# name more (a Telegram contact whose user_id is the sender's own id verifies the phone).
CHANNEL_VERIFIED_KINDS = {"telegram": frozenset({"telegram"}), "whatsapp": frozenset({"whatsapp"})}

# Verified kind -> the lead columns that only ever hold verified values of that person (a
# messenger id, set by its own channel or by staff). phone_index / email_index may hold a claimed
# value, so nothing joins a lead through them.
_VERIFIED_LEAD_COLUMNS = {
    "telegram": ("telegram_index",),
    "whatsapp": ("whatsapp_index",),
    "phone": ("whatsapp_index",),  # a verified phone is the same person's WhatsApp id
}

# Any lead column a claimed value may point at, for the "possible duplicate" hint.
_ALL_LEAD_COLUMNS = {
    "phone": ("phone_index", "whatsapp_index"),
    "whatsapp": ("phone_index", "whatsapp_index"),
    "email": ("email_index",),
    "telegram": ("telegram_index",),
}


@dataclass
class SenderContacts:
    name: str
    values: dict[str, ContactValue]
    telegram_username: str = ""  # only for finding the client (a client may be saved as @username)
    verified: frozenset[str] = frozenset()  # kinds the channel vouches for (see CHANNEL_VERIFIED_KINDS)

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
        """Advisory-lock names of the verified values: two messages of one sender make one lead."""
        return {
            f"{_INDEX_NAMESPACE[kind]}:{contact.index}"
            for kind, contact in self.values.items()
            if contact.index and kind in self.verified
        }

    def lead_terms(self) -> list[tuple[str, list[str]]]:
        """The sender's own leads: (lead index column, blind indexes) pairs, any one matching.

        Verified values only, and only in columns that hold verified values: a claimed phone or
        e-mail never leads into somebody else's conversation.
        """
        return self._terms(lambda kind: _VERIFIED_LEAD_COLUMNS.get(kind, ()) if kind in self.verified else ())

    def duplicate_terms(self) -> list[tuple[str, list[str]]]:
        """Leads sharing any value in any column the verified lookup did not search: a hint for a person."""

        def columns(kind):
            searched = _VERIFIED_LEAD_COLUMNS.get(kind, ()) if kind in self.verified else ()
            return tuple(column for column in _ALL_LEAD_COLUMNS[kind] if column not in searched)

        return self._terms(columns)

    def _terms(self, columns_of) -> list[tuple[str, list[str]]]:
        by_column: dict[str, list[str]] = {}
        for kind in sorted(self.values):
            if not self._has_index(kind):
                continue
            for column in columns_of(kind):
                values = by_column.setdefault(column, [])
                for index in self.values[kind].lookup_indexes():
                    if index not in values:
                        values.append(index)
        return sorted(by_column.items())

    def claimed_kinds(self) -> set[str]:
        return {kind for kind in self.values if kind not in self.verified}

    def only(self, kinds) -> "SenderContacts":
        """The same sender with only the given kinds of values (e.g. the verified ones)."""
        kinds = set(kinds)
        return SenderContacts(
            name=self.name,
            values={kind: value for kind, value in self.values.items() if kind in kinds},
            telegram_username=self.telegram_username if "telegram" in kinds else "",
            verified=self.verified & kinds,
        )

    def _has_index(self, kind: str) -> bool:
        contact = self.values.get(kind)
        return bool(contact and contact.index)


def sender_contacts(sender: dict, *, strict: bool = False, verified=frozenset()) -> SenderContacts:
    """Normalise a sender dict {name, phone, email, telegram_id, whatsapp_id}.

    strict=True (staff input) raises ValidationError {field: [message]} for invalid values.
    verified: the kinds ("telegram", "whatsapp", "phone", "email") whose value is vouched for.
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
        values[kind] = ContactValue(value=normalised, index=blind_index(_INDEX_NAMESPACE[kind], normalised),
                                    candidates=tuple(blind_index_candidates(_INDEX_NAMESPACE[kind], normalised)))
    if errors:
        raise ValidationError(errors)
    name = " ".join(str(sender.get("name") or "").split())[:200]
    return SenderContacts(
        name=name,
        values=values,
        telegram_username=_username(sender.get("telegram_username")),
        verified=frozenset(verified),
    )


def _username(value) -> str:
    try:
        return normalize_telegram(str(value)) if value else ""
    except ValidationError:
        return ""


def contact_index_of(kind: str, stored_value: str) -> str:
    """The blind index a stored (normalised) contact value gets with the current key; "" when the value
    does not normalise (a raw value kept as typed). Used by `manage.py rotate_blind_index`."""
    if not stored_value:
        return ""
    try:
        normalised = _NORMALISERS[kind](stored_value)
    except ValidationError:
        return ""
    return blind_index(_INDEX_NAMESPACE[kind], normalised)
