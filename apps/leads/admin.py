"""Leads in the admin: list with status/source filters, the client link, the conversation read-only.

Personal data is masked for staff without clients.view_personal_data. Edits and transitions go
through apps.leads.services, so the same rules hold as in the API.
"""

from contextvars import ContextVar

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.accounts.selectors import managers
from apps.core.errors import BusinessError
from apps.core.masking import mask_email, mask_phone
from apps.core.middleware import russian_titles
from apps.core.paging import LargeTableAdminMixin
from apps.leads import services
from apps.leads.models import Lead, LeadAttachment, LeadMessage

PERSONAL_DATA_PERMISSION = "clients.view_personal_data"
_current_request: ContextVar = ContextVar("lead_admin_request", default=None)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _unmasked_now() -> bool:
    request = _current_request.get()
    return request is not None and request.user.has_perm(PERSONAL_DATA_PERMISSION)


# What the customer wrote or sent (phones, passport scans, birth dates) is hidden, not masked, from
# staff without the personal-data right: a pattern-based mask misses numbers written in words.
HIDDEN = _("скрыто: нет права на персональные данные")


class LeadMessageInline(_ReadOnlyInline):
    model = LeadMessage
    fields = ("received_at", "channel", "direction", "shown_text")
    readonly_fields = fields

    @admin.display(description=_("текст"))
    def shown_text(self, obj):
        return obj.text if _unmasked_now() else HIDDEN


class LeadAttachmentInline(_ReadOnlyInline):
    model = LeadAttachment
    fields = ("shown_name", "content_type", "size", "note", "download")
    readonly_fields = fields

    @admin.display(description=_("файл"))
    def shown_name(self, obj):
        return obj.name if _unmasked_now() else HIDDEN

    @admin.display(description=_("скачать"))
    def download(self, obj):
        if not obj.file or not _unmasked_now():
            return "—"
        return format_html('<a href="{}">{}</a>', obj.file.url, _("скачать"))


@admin.register(Lead)
class LeadAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = ("number", "source", "status", "sender", "client_link", "operator", "created_at")
    list_filter = ("status", "source", "created_at")
    list_select_related = ("client", "operator", "suggested_client")
    search_fields = ("number", "external_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    inlines = [LeadMessageInline, LeadAttachmentInline]
    actions = ["take_leads", "link_suggested_clients", "merge_into_duplicates"]
    fields = (
        "number", "source", "status", "external_id",
        "sender", "shown_phone", "shown_email", "shown_telegram", "shown_whatsapp",
        "client", "suggested_client_link", "possible_duplicate_link", "operator", "order", "rejection_reason",
        "created_at", "last_message_at", "closed_at",
    )
    readonly_fields = (
        "number", "source", "status", "external_id",
        "sender", "shown_phone", "shown_email", "shown_telegram", "shown_whatsapp",
        "suggested_client_link", "possible_duplicate_link",
        "order", "rejection_reason", "created_at", "last_message_at", "closed_at",
    )
    raw_id_fields = ("client",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "operator":  # the responsible person is a manager, never an accountant
            kwargs["queryset"] = managers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _unmasked(self, request) -> bool:
        return request.user.has_perm(PERSONAL_DATA_PERMISSION)

    # The admin instance is shared by all requests: the request rides in a context variable.
    # (rendered before the variable is reset: TemplateResponse renders lazily otherwise).
    def changelist_view(self, request, extra_context=None):
        return _rendered_with(request, super().changelist_view, request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return _rendered_with(request, super().changeform_view, request, object_id, form_url, extra_context)

    def _shown(self, value: str, masker) -> str:
        request = _current_request.get()
        if request is not None and self._unmasked(request):
            return value or "—"
        return masker(value) or "—"

    @admin.display(description=_("отправитель"))
    def sender(self, obj):
        return obj.contact_name or "—"

    @admin.display(description=_("телефон"))
    def shown_phone(self, obj):
        return self._shown(obj.contact_phone, mask_phone)

    @admin.display(description=_("e-mail"))
    def shown_email(self, obj):
        return self._shown(obj.contact_email, mask_email)

    @admin.display(description=_("Telegram"))
    def shown_telegram(self, obj):
        return self._shown(obj.contact_telegram, lambda value: (value[:2] + "***") if value else "")

    @admin.display(description=_("WhatsApp"))
    def shown_whatsapp(self, obj):
        return self._shown(obj.contact_whatsapp, mask_phone)

    @admin.display(description=_("клиент"), ordering="client__last_name")
    def client_link(self, obj):
        if obj.client_id is None:
            return "—"
        try:
            url = reverse("admin:clients_client_change", args=[obj.client_id])
        except NoReverseMatch:  # the client admin is not registered
            return obj.client.full_name
        return format_html('<a href="{}">{}</a>', url, obj.client.full_name)

    @admin.display(description=_("возможно, это клиент"))
    def suggested_client_link(self, obj):
        if obj.suggested_client_id is None:
            return "—"
        return format_html(
            "{} <small>({})</small>",
            _admin_link("admin:clients_client_change", obj.suggested_client_id, obj.suggested_client.full_name),
            _("контакты указаны отправителем, не подтверждены: проверьте и примените действие "
              "«Привязать предложенного клиента»"),
        )

    @admin.display(description=_("возможно, дубль заявки"))
    def possible_duplicate_link(self, obj):
        if obj.possible_duplicate_of_id is None:
            return "—"
        return format_html(
            "{} <small>({})</small>",
            _admin_link("admin:leads_lead_change", obj.possible_duplicate_of_id, obj.possible_duplicate_of.number),
            _("проверьте и примените действие «Объединить с возможным дублем»"),
        )

    def has_add_permission(self, request):
        # Manual leads are created through the API (lead_create_manual), which checks contacts.
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ("client", "operator") if name in form.changed_data}
        try:
            services.lead_update(lead=obj, data=data, actor=request.user)
        except (BusinessError, ValidationError) as error:
            self.message_user(request, _message(error), messages.ERROR)

    def delete_model(self, request, obj):
        services.lead_delete(lead=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for lead in queryset:
            services.lead_delete(lead=lead, actor=request.user)

    @admin.action(description=_("Взять в работу"), permissions=["change"])
    def take_leads(self, request, queryset):
        taken = 0
        for lead in queryset:
            try:
                services.lead_take(lead=lead, actor=request.user)
                taken += 1
            except BusinessError as error:
                self.message_user(request, f"{lead.number}: {error.detail}", messages.WARNING)
        if taken:
            self.message_user(request, _("Взято в работу: %(count)s") % {"count": taken}, messages.SUCCESS)


    @admin.action(description=_("Привязать предложенного клиента"), permissions=["change"])
    def link_suggested_clients(self, request, queryset):
        self._each(request, queryset, services.lead_link_client, _("Клиент привязан: %(count)s"))

    @admin.action(description=_("Объединить с возможным дублем"), permissions=["change"])
    def merge_into_duplicates(self, request, queryset):
        self._each(request, queryset, services.lead_merge_into, _("Объединено заявок: %(count)s"))

    def _each(self, request, queryset, service, done_message) -> None:
        done = 0
        for lead in queryset.order_by("pk"):
            try:
                service(lead=lead, actor=request.user)
                done += 1
            except (BusinessError, ValidationError) as error:
                self.message_user(request, f"{lead.number}: {_message(error)}", messages.WARNING)
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)


def _admin_link(view_name: str, pk, label: str):
    try:
        return format_html('<a href="{}">{}</a>', reverse(view_name, args=[pk]), label)
    except NoReverseMatch:  # that admin is not registered
        return label


def _rendered_with(request, view, *args):
    token = _current_request.set(request)
    try:
        response = view(*args)
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            russian_titles(request, response)
            response.render()
        return response
    finally:
        _current_request.reset(token)


def _message(error) -> str:
    if isinstance(error, BusinessError):
        return error.detail
    return "; ".join(error.messages)
