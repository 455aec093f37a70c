"""Test data for clients, built through the services so normalisation and indexes are real."""

import itertools

from apps.clients.services import client_create

_counter = itertools.count(1)


def phone(n: int) -> str:
    return f"+7916{n:07d}"


def make_client(**data):
    """A client with a unique phone, e-mail and internal passport unless given."""
    n = next(_counter) + 1000
    data.setdefault("last_name", f"Иванов{n}")
    data.setdefault("first_name", "Иван")
    data.setdefault("phones", [phone(n)])
    data.setdefault("emails", [f"client{n}@example.ru"])
    data.setdefault("passports", [{"kind": "internal", "series": "4510", "number": f"{n:06d}"}])
    actor = data.pop("actor", None)
    return client_create(data=data, actor=actor)
