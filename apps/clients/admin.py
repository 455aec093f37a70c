"""Clients in the admin: search by name / phone / e-mail / passport (blind index), inlines, merge.

Every save goes through apps.clients.services, so normalisation and deduplication hold here as in
the API; duplicates are reported on the form in Russian. Staff without
clients.view_personal_data see masked values and cannot edit personal data.
"""

from contextvars import ContextVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportActionMixin

from apps.accounts.selectors import managers
from apps.clients import selectors, services
from apps.clients.card import render_client_card
from apps.clients.exports import ClientResource
from apps.clients.imports.admin import ClientImportAdminMixin
from apps.clients.models import (
    PERSONAL_DATA_PERMISSION,
    Client,
    ClientContact,
    ClientFile,
    ClientPassport,
    ContactKind,
)
from apps.clients.normalization import contact_index, normalize_contact
from apps.clients.selectors import client_file_url
from apps.core import access
from apps.core.errors import BusinessError
from apps.core.exports import ExcelExportAdminMixin
from apps.core.masking import mask_date
from apps.core.paging import LargeTableAdminMixin
from apps.core.personal_data import PersonalDataForbidden, admin_forbidden_response

CLIENT_FIELDS = ("last_name", "first_name", "middle_name", "last_name_latin", "first_name_latin",
                 "birth_date", "citizenship", "operator", "notes")
_current_request: ContextVar = ContextVar("client_admin_request", default=None)
_LOOKUP_KEYS = {"phone": "phones", "email": "emails", "telegram": "telegram_ids", "whatsapp": "whatsapp_ids"}


PERSONAL_DATA_SEARCH_REFUSED = (
    "Нет права на персональные данные клиентов: поиск по телефону, e-mail и паспорту недоступен. "
    "Ищите по фамилии или имени."
)


def _looks_like_contact(term: str) -> bool:
    return "@" in term or any(ch.isdigit() for ch in term)


def can_see_personal_data(request) -> bool:
    return request.user.has_perm(PERSONAL_DATA_PERMISSION)


def _duplicate_message(matches: list[dict]) -> str:
    owners = ", ".join(f"«{match['name']}» (№ {match['id']})" for match in matches[:3])
    return f"Уже принадлежит другому клиенту: {owners}. Объедините клиентов или исправьте значение."


# --- Inlines -----------------------------------------------------------------------------------------


class _ServiceFormSet(BaseInlineFormSet):
    """Validates like the services do; saving is done by ClientAdmin.save_formset through services."""

    def _live_forms(self):
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            if not hasattr(form, "cleaned_data"):
                continue
            yield form


class ContactFormSet(_ServiceFormSet):
    def clean(self):
        super().clean()
        seen: set[tuple[str, str]] = set()
        for form in self._live_forms():
            kind, value = form.cleaned_data.get("kind"), form.cleaned_data.get("value")
            if not kind or not value:
                continue
            try:
                normalised = normalize_contact(kind, value)
            except ValidationError as error:
                form.add_error("value", error.messages)
                continue
            form.cleaned_data["value"] = normalised
            key = (kind, contact_index(kind, normalised))
            if key in seen:
                form.add_error("value", "Этот контакт указан дважды.")
                continue
            seen.add(key)
            matches = selectors.client_duplicates(
                **{_LOOKUP_KEYS[kind]: [normalised]}, exclude_client_id=self.instance.pk
            )
            if matches:
                form.add_error("value", _duplicate_message(matches))


class PassportFormSet(_ServiceFormSet):
    def clean(self):
        super().clean()
        seen: set[str] = set()
        for form in self._live_forms():
            data = {name: form.cleaned_data.get(name) for name in
                    ("kind", "series", "number", "issue_date", "expiry_date", "issued_by", "is_active")}
            passport, errors = services.prepare_passport(data, "")
            for key, messages_ in errors.items():
                name = key.lstrip(".")
                form.add_error(name if name in form.fields else None, messages_)
            if passport is None:
                continue
            if passport.index in seen:
                form.add_error("number", "Этот документ указан дважды.")
                continue
            seen.add(passport.index)
            matches = selectors.client_duplicates(
                passports=[passport.series + passport.number], exclude_client_id=self.instance.pk
            )
            if matches:
                form.add_error("number", _duplicate_message(matches))


class _PersonalDataInline(admin.TabularInline):
    extra = 0
    masked_fields: tuple[str, ...] = ()
    plain_fields: tuple[str, ...] = ()

    def get_fields(self, request, obj=None):
        return self.plain_fields if can_see_personal_data(request) else self.masked_fields

    def get_readonly_fields(self, request, obj=None):
        return () if can_see_personal_data(request) else self.masked_fields

    def _pd_gate(self, request, allowed: bool) -> bool:
        return allowed and can_see_personal_data(request)

    def has_add_permission(self, request, obj=None):
        return self._pd_gate(request, super().has_add_permission(request, obj))

    def has_change_permission(self, request, obj=None):
        return self._pd_gate(request, super().has_change_permission(request, obj))

    def has_delete_permission(self, request, obj=None):
        return self._pd_gate(request, super().has_delete_permission(request, obj))


class ContactInline(_PersonalDataInline):
    model = ClientContact
    formset = ContactFormSet
    plain_fields = ("kind", "value", "is_primary")
    masked_fields = ("kind", "masked_value", "is_primary")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_archived=False)

    @admin.display(description=_("значение"))
    def masked_value(self, obj):
        return obj.masked_value


class PassportInline(_PersonalDataInline):
    model = ClientPassport
    formset = PassportFormSet
    plain_fields = ("kind", "series", "number", "issue_date", "expiry_date", "issued_by", "is_active")
    masked_fields = ("kind", "masked_number", "issue_date", "expiry_date", "is_active")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_archived=False)

    @admin.display(description=_("серия и номер"))
    def masked_number(self, obj):
        return obj.masked_number


class ClientFileForm(forms.ModelForm):
    upload = forms.FileField(label=_("файл"), required=False)

    class Meta:
        model = ClientFile
        fields = ("description",)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if not self.instance.pk and self.has_changed():
            if upload is None:
                self.add_error("upload", "Приложите файл.")
            else:
                try:
                    services.check_upload(upload)
                except ValidationError as error:
                    self.add_error("upload", error.message_dict.get("file", error.messages))
        return cleaned


class ClientFileInline(_PersonalDataInline):
    model = ClientFile
    form = ClientFileForm
    plain_fields = ("upload", "description", "download_link", "content_type", "size", "created_at")
    masked_fields = ("description", "content_type", "size", "created_at")

    def get_readonly_fields(self, request, obj=None):
        if can_see_personal_data(request):
            return ("download_link", "content_type", "size", "created_at")
        return self.masked_fields

    @admin.display(description=_("скачать"))
    def download_link(self, obj):
        if not obj or not obj.pk:
            return "—"
        return format_html('<a href="{}" rel="noopener">{}</a>', client_file_url(obj), obj.original_name)


# --- Client ------------------------------------------------------------------------------------------


class ClientAdminForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = CLIENT_FIELDS


@admin.register(Client)
class ClientAdmin(
    LargeTableAdminMixin, ClientImportAdminMixin, ExcelExportAdminMixin, ExportActionMixin, admin.ModelAdmin
):
    # Export of the selected clients as CSV for Russian Excel (masked for users without PD rights).
    resource_classes = [ClientResource]
    form = ClientAdminForm
    inlines = [ContactInline, PassportInline, ClientFileInline]
    list_display = ("full_name_display", "primary_phone", "primary_email", "citizenship", "operator", "created_at")
    list_filter = ("citizenship", "operator", "created_at")
    search_fields = ("search_name",)
    search_help_text = _("Поиск по ФИО (кириллица или латиница), телефону, e-mail или номеру паспорта.")
    list_select_related = ("operator",)
    list_per_page = 50
    date_hierarchy = "created_at"
    actions = ["merge_clients"]
    readonly_fields = ("created_at", "updated_at")

    def export_admin_action(self, request, queryset):
        """More than EXPORT_BACKGROUND_ROWS clients: a job builds the file (issue 15 point 3); the
        person follows its progress and takes the file from «Ход длительных задач»."""
        from django.conf import settings

        if queryset.order_by()[: settings.EXPORT_BACKGROUND_ROWS + 1].count() <= settings.EXPORT_BACKGROUND_ROWS:
            return super().export_admin_action(request, queryset)
        from django.http import HttpResponseRedirect
        from django.urls import reverse
        from django.utils.html import format_html

        from apps.clients.export_jobs import BUILDER
        from apps.core.access import note_personal_data_access
        from apps.jobs.exports import export_start

        ids = list(queryset.values_list("pk", flat=True))  # in the list's order, as the direct export
        show_pd = request.user.has_perm("clients.view_personal_data")
        progress = export_start(builder=BUILDER, params={"ids": ids, "show_pd": show_pd},
                                title=f"Выгрузка клиентов ({len(ids)})", actor=request.user, total=len(ids))
        if show_pd:  # the file will show them unmasked: one access-log entry for this request
            note_personal_data_access(ids, ("phone", "email", "birth_date"), channel="export")
        url = reverse("admin:jobs_jobprogress_change", args=[progress.pk])
        self.message_user(request, format_html(
            "Клиентов много ({}): файл готовится в фоне. Ход и ссылка на файл — <a href=\"{}\">на странице задачи</a>.",
            len(ids), url))
        return HttpResponseRedirect(request.get_full_path())

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "operator":  # the responsible person is a manager, never an accountant
            kwargs["queryset"] = managers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- what is shown -----------------------------------------------------------------------------

    def get_queryset(self, request):
        # The list columns need the request (masking) but Django passes them only the row.
        _current_request.set(request)
        return super().get_queryset(request).prefetch_related(Prefetch("contacts", queryset=selectors.live_contacts()))

    def get_fields(self, request, obj=None):
        fields = [*CLIENT_FIELDS, "created_at", "updated_at"]
        if not can_see_personal_data(request):
            fields[fields.index("birth_date")] = "masked_birth_date"
        if obj is not None:
            fields.append("history_display")
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = ["created_at", "updated_at", "history_display"]
        if not can_see_personal_data(request):
            readonly.append("masked_birth_date")
        return readonly

    @admin.display(description=_("история"))
    def history_display(self, obj):
        """Orders, leads, payments, documents and consents, from the apps that own them (apps.clients.card)."""
        if obj is None or obj.pk is None:
            return ""
        return render_client_card(obj, _current_request.get()) or "—"

    @admin.display(description=_("ФИО"), ordering="last_name")
    def full_name_display(self, obj):
        return obj.full_name

    @admin.display(description=_("дата рождения"))
    def masked_birth_date(self, obj):
        return mask_date(obj.birth_date) if obj and obj.birth_date else "—"

    def _primary(self, request, obj, kind: str) -> str:
        if request is None:
            return "—"
        contacts = [c for c in obj.contacts.all() if c.kind == kind]
        if not contacts:
            return "—"
        primary = next((c for c in contacts if c.is_primary), contacts[0])
        if not can_see_personal_data(request):
            return primary.masked_value
        access.note_personal_data_access((obj.id,), (access.PHONE if kind == ContactKind.PHONE else access.EMAIL,))
        return primary.value

    @admin.display(description=_("телефон"))
    def primary_phone(self, obj):
        return self._primary(_current_request.get(), obj, ContactKind.PHONE)

    @admin.display(description=_("e-mail"))
    def primary_email(self, obj):
        return self._primary(_current_request.get(), obj, ContactKind.EMAIL)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The change page shows every category unmasked to those who may see it: the access log.
        if can_see_personal_data(request) and str(object_id).isdigit():
            access.note_personal_data_access((int(object_id),), access.CLIENT_CARD_CATEGORIES)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_search_results(self, request, queryset, search_term):
        """Name by trigram-indexed LIKE; phone / e-mail / passport by blind index — never by plaintext."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        condition = Q(id__in=selectors.search_clients(Client.objects.all(), term).values("id"))
        for lookup in (selectors.filter_by_phone, selectors.filter_by_email, selectors.filter_by_passport):
            try:
                found = lookup(Client.objects.all(), term)
            except ValidationError:
                continue
            # A term that IS a phone / e-mail / passport would reveal a masked value to a guesser.
            # (Names carry neither digits nor "@": a name search stays open to everyone.)
            if not can_see_personal_data(request) and _looks_like_contact(term):
                raise PersonalDataForbidden(PERSONAL_DATA_SEARCH_REFUSED)
            condition |= Q(id__in=found.values("id"))
        return queryset.filter(condition), False

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except PersonalDataForbidden as error:
            return admin_forbidden_response(request, self.admin_site, error, "Поиск недоступен")

    # --- saves through services --------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in CLIENT_FIELDS if name in form.cleaned_data}
        if change:
            services.client_update(client=obj, data=data, actor=request.user)
            return
        created = services.client_create(data=data, actor=request.user)
        for field in Client._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db

    def save_formset(self, request, form, formset, change):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        client = form.instance
        for inline_form in formset.forms:
            instance = inline_form.instance
            if formset.can_delete and formset._should_delete_form(inline_form):
                if instance.pk:
                    self._delete_child(request, instance)
                    formset.deleted_objects.append(instance)
                continue
            if not inline_form.has_changed():
                continue
            saved = self._save_child(request, client, inline_form)
            if instance.pk:
                formset.changed_objects.append((saved, inline_form.changed_data))
            else:
                formset.new_objects.append(saved)

    def _save_child(self, request, client, inline_form):
        data, instance, actor = inline_form.cleaned_data, inline_form.instance, request.user
        if isinstance(instance, ClientContact):
            if instance.pk and data["kind"] == instance.kind:
                return services.contact_update(contact=instance, value=data["value"],
                                               is_primary=data.get("is_primary", False), actor=actor)
            if instance.pk:
                services.contact_delete(contact=ClientContact.objects.get(pk=instance.pk), actor=actor)
            return services.contact_add(client=client, kind=data["kind"], value=data["value"],
                                        is_primary=data.get("is_primary", False), actor=actor)
        if isinstance(instance, ClientPassport):
            fields = {name: data.get(name) for name in
                      ("kind", "series", "number", "issue_date", "expiry_date", "issued_by", "is_active")}
            if instance.pk:
                return services.passport_update(passport=instance, data=fields, actor=actor)
            return services.passport_add(client=client, data=fields, actor=actor)
        if instance.pk:  # ClientFile: only the description is editable
            instance.description = data.get("description", "")
            instance.save(update_fields=["description"])
            return instance
        return services.client_file_add(client=client, uploaded=data["upload"],
                                        description=data.get("description", ""), actor=actor)

    def _delete_child(self, request, instance):
        if isinstance(instance, ClientContact):
            services.contact_delete(contact=instance, actor=request.user)
        elif isinstance(instance, ClientPassport):
            services.passport_delete(passport=instance, actor=request.user)
        else:
            services.client_file_delete(file=instance, actor=request.user)

    def delete_model(self, request, obj):
        services.client_soft_delete(client=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for client in queryset:
            services.client_soft_delete(client=client, actor=request.user)

    @admin.action(description=_("Объединить двух выбранных клиентов (в более раннего)"), permissions=["delete"])
    def merge_clients(self, request, queryset):
        clients = list(queryset.order_by("pk")[:3])
        if len(clients) != 2:
            self.message_user(request, "Для объединения выберите ровно двух клиентов.", messages.ERROR)
            return
        target, other = clients
        try:
            services.client_merge(target=target, other=other, actor=request.user)
        except BusinessError as error:
            self.message_user(request, error.detail, messages.ERROR)
            return
        self.message_user(
            request, f"Клиент № {other.pk} объединён с клиентом «{target.full_name}» (№ {target.pk}).", messages.SUCCESS
        )
