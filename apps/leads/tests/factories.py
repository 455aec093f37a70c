"""Test data for leads: clients come from apps.clients.tests.factories.ClientFactory (the one way)."""

import itertools

from apps.clients.models import Client
from apps.clients.tests.factories import ClientFactory


def make_client(*, phone: str = "", email: str = "", telegram: str = "", last_name: str = "Иванов") -> Client:
    """A client with (only) the given contacts, through client_create."""
    contacts = {"phones": [phone] if phone else [], "emails": [email] if email else [],
                "telegram": [telegram] if telegram else []}
    return ClientFactory(last_name=last_name, first_name=f"Иван{next(_counter)}", **contacts)


_counter = itertools.count(1)
