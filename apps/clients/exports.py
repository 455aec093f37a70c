"""The clients admin's Excel export: phones, e-mails and birth dates masked unless show_pd."""

from import_export import fields

from apps.clients.models import Client
from apps.core.access import note_personal_data_access
from apps.core.exports import ExcelResource
from apps.core.masking import mask_date


class ClientResource(ExcelResource):
    """Clients for the clients admin: phones, e-mails and birth dates masked unless show_pd."""

    id = fields.Field(attribute="id", column_name="ID")
    last_name = fields.Field(attribute="last_name", column_name="Фамилия")
    first_name = fields.Field(attribute="first_name", column_name="Имя")
    middle_name = fields.Field(attribute="middle_name", column_name="Отчество")
    birth_date = fields.Field(column_name="Дата рождения", dehydrate_method="dehydrate_birth_date")
    phones = fields.Field(column_name="Телефоны", dehydrate_method="dehydrate_phones")
    emails = fields.Field(column_name="E-mail", dehydrate_method="dehydrate_emails")
    created_at = fields.Field(attribute="created_at", column_name="Создан")

    class Meta:
        model = Client
        fields = export_order = ("id", "last_name", "first_name", "middle_name", "birth_date", "phones", "emails",
                        "created_at")

    def filter_export(self, queryset, **kwargs):
        return queryset.prefetch_related("contacts")

    def _contacts(self, client, kinds: tuple[str, ...]) -> str:
        if self.show_pd:  # the personal-data access log: one row for the whole export request
            note_personal_data_access((client.pk,), ("phone" if "phone" in kinds else "email",), channel="export")
        values = [
            (contact.value if self.show_pd else contact.masked_value)
            for contact in client.contacts.all()
            if contact.kind in kinds and not contact.is_archived
        ]
        return ", ".join(values)

    def dehydrate_birth_date(self, client):
        if self.show_pd:
            note_personal_data_access((client.pk,), ("birth_date",), channel="export")
            return client.birth_date
        return mask_date(client.birth_date)

    def dehydrate_phones(self, client):
        return self._contacts(client, ("phone", "whatsapp"))

    def dehydrate_emails(self, client):
        return self._contacts(client, ("email",))
