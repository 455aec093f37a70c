"""Test data for leads: clients with contacts written the way the clients app writes them."""

import itertools

from apps.clients.models import Client, ClientContact
from apps.clients.normalization import contact_index, normalize_contact

_counter = itertools.count(1)


def make_client(*, phone: str = "", email: str = "", telegram: str = "", last_name: str = "Иванов") -> Client:
    client = Client.objects.create(last_name=last_name, first_name=f"Иван{next(_counter)}")
    for kind, value in (("phone", phone), ("email", email), ("telegram", telegram)):
        if value:
            normalised = normalize_contact(kind, value)
            ClientContact.objects.create(
                client=client, kind=kind, value=normalised, blind_index=contact_index(kind, normalised), is_primary=True
            )
    return client
