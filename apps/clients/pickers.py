"""Client pickers in the admin that tell namesakes apart in the *selected* value too.

The autocomplete's dropdown already shows «Иванов Иван, 1985 г. р., +7 *** ***-45-67»
(apps.workplace.admin.ClientAwareAutocompleteView); Django renders the value already chosen with
the form field's `label_from_instance`, which is `str(client)` — a bare name. The fields here use
the same label, the phone read in the same query (no extra query per picker or per client).

`ClientPickerAdminMixin` swaps them in for every ForeignKey / ManyToMany to Client of a ModelAdmin
or an inline, whatever the widget (autocomplete, raw id, select).
"""

from django import forms
from django.contrib.admin import widgets
from django.db.models import OuterRef, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator

from apps.clients.models import Client, ClientContact, ContactKind
from apps.clients.selectors import client_label


def picker_queryset(queryset=None):
    """Clients with their current phone (the primary one first) as `picker_phone`, in the same query:
    a Subquery over the encrypted column, decrypted by the field when read."""
    phone = (
        ClientContact.objects.filter(client=OuterRef("pk"), kind=ContactKind.PHONE, is_archived=False)
        .order_by("-is_primary", "id")
        .values("value")[:1]
    )
    base = Client.objects.all() if queryset is None else queryset
    return base.annotate(picker_phone=Subquery(phone, output_field=ClientContact._meta.get_field("value")))


def picker_label(client: Client) -> str:
    if not hasattr(client, "picker_phone"):  # not fetched through picker_queryset: one query for it
        client = picker_queryset(Client.objects.filter(pk=client.pk)).get()
    phone = ClientContact(kind=ContactKind.PHONE, value=client.picker_phone) if client.picker_phone else None
    return client_label(client, phone)


class ClientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return picker_label(obj)


class ClientMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return picker_label(obj)


class ClientRawIdWidget(widgets.ForeignKeyRawIdWidget):
    """The raw-id picker's label beside the box: the same distinguishing label, not the bare name."""

    def label_and_url_for_value(self, value):
        try:
            client = picker_queryset(Client.objects.filter(pk=value)).get()
        except (ValueError, TypeError, Client.DoesNotExist):
            return "", ""
        try:
            url = reverse(f"{self.admin_site.name}:clients_client_change", args=[client.pk])
        except NoReverseMatch:
            url = ""
        return Truncator(picker_label(client)).words(14), url


def _is_client_relation(db_field) -> bool:
    return getattr(db_field, "remote_field", None) is not None and db_field.remote_field.model is Client


class ClientPickerAdminMixin:
    """Every client picker of this admin (or inline) shows the distinguishing label."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if _is_client_relation(db_field):
            kwargs.setdefault("form_class", ClientChoiceField)
            kwargs["queryset"] = picker_queryset(kwargs.get("queryset"))
            if db_field.name in self.raw_id_fields:
                kwargs["widget"] = ClientRawIdWidget(db_field.remote_field, self.admin_site, using=kwargs.get("using"))
        return _wide(super().formfield_for_foreignkey(db_field, request, **kwargs), db_field)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if _is_client_relation(db_field):
            kwargs.setdefault("form_class", ClientMultipleChoiceField)
            kwargs["queryset"] = picker_queryset(kwargs.get("queryset"))
        return _wide(super().formfield_for_manytomany(db_field, request, **kwargs), db_field)


def _wide(formfield, db_field):
    """Room for «Фамилия Имя Отчество, 1985 г. р., +7 *** ***-45-67» (the autocomplete box is as wide
    as its select; Django's default cuts the label after the name)."""
    if formfield is not None and _is_client_relation(db_field):
        widget = getattr(formfield.widget, "widget", formfield.widget)  # inside RelatedFieldWidgetWrapper
        if isinstance(widget, widgets.AutocompleteMixin):
            widget.attrs["style"] = "width: 36em; max-width: 100%"
    return formfield
