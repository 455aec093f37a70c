"""django-auditlog registration of the clients' models, without personal data in plaintext.

Encrypted fields are recorded masked by `mask_personal_data` (the diff shows *that* a phone,
passport or birth date changed, never the value); blind indexes and search strings are excluded.
"""

from auditlog.registry import auditlog

MASKED = "[скрыто]"


def mask_personal_data(value: str) -> str:
    return MASKED if value not in (None, "", "None") else value


def register_models() -> None:
    from apps.clients.models import Client, ClientContact, ClientFile, ClientPassport

    mask = "apps.clients.audit.mask_personal_data"
    auditlog.register(Client, mask_fields=["birth_date", "notes"], mask_callable=mask, exclude_fields=["search_name"])
    auditlog.register(ClientContact, mask_fields=["value"], mask_callable=mask, exclude_fields=["blind_index"])
    auditlog.register(
        ClientPassport, mask_fields=["series", "number", "issued_by"], mask_callable=mask,
        exclude_fields=["number_index"],
    )
    auditlog.register(ClientFile, mask_fields=["original_name"], mask_callable=mask)
