"""Test data for clients: the one way to make a client in every app's tests (through client_create,
so normalisation, blind indexes and duplicate checks are real).

    ClientFactory()                                   # a name only
    ClientFactory(phones=["+79161234567"], emails=["a@example.ru"], birth_date="1990-05-06")
    ClientFactory(with_contacts=True)                 # a unique phone, e-mail and internal passport
"""

import itertools

import factory

from apps.clients.models import Client
from apps.clients.services import client_create

_counter = itertools.count(500_000)  # make_client's numbers, apart from ClientFactory's sequence


def phone(n: int) -> str:
    return f"+7916{n:07d}"


class ClientFactory(factory.Factory):
    """Keyword arguments are client_create's `data` (lists of phones / emails / telegram / whatsapp,
    passports, any field of Client), plus `actor` and `on_duplicate`."""

    class Meta:
        model = Client

    class Params:
        number = factory.Sequence(lambda n: n + 1000)
        with_contacts = factory.Trait(
            phones=factory.LazyAttribute(lambda o: [phone(o.number)]),
            emails=factory.LazyAttribute(lambda o: [f"client{o.number}@example.ru"]),
            passports=factory.LazyAttribute(lambda o: [{"kind": "internal", "series": "4510",
                                                        "number": f"{o.number:06d}"}]),
        )

    last_name = factory.LazyAttribute(lambda o: f"Петров{o.number}")
    first_name = "Иван"

    @classmethod
    def _create(cls, model_class, *args, actor=None, on_duplicate="error", **data):
        return client_create(data=data, actor=actor, on_duplicate=on_duplicate)


def make_client(**data) -> Client:
    """A client «Иванов<n>» with a unique phone, e-mail and internal passport unless given."""
    number = next(_counter)
    data.setdefault("last_name", f"Иванов{number}")
    return ClientFactory(with_contacts=True, number=number, **data)
