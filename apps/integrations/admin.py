"""Admin: integrations (secrets write-only, «Проверить подключение»), the inbox (errors, retry), consents."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError as DjangoValidationError

from apps.accounts import lockout
from apps.core.errors import BusinessError
from apps.core.paging import LargeTableAdminMixin
from apps.integrations import services
from apps.integrations.inbox import inbox_reprocess
from apps.integrations.models import ImapSecurity, InboxItem, InboxStatus, IntegrationSettings

SECRET_INPUTS = ("api_token", "app_secret", "verify_token", "imap_password", "smtp_password")
# Form field names differ from the model's (non-editable) secret fields: "new_<secret>".
FORM_SECRET = {name: f"new_{name}" for name in SECRET_INPUTS}


def _secret_field(label: str) -> forms.CharField:
    # render_value=False: the stored secret never reaches the page, not even masked.
    return forms.CharField(label=label, required=False, strip=True, widget=forms.PasswordInput(render_value=False))


class IntegrationSettingsForm(forms.ModelForm):
    new_api_token = _secret_field("Токен API (Telegram-бота / WhatsApp)")
    new_app_secret = _secret_field("Секрет приложения WhatsApp")
    new_verify_token = _secret_field("Токен проверки вебхука WhatsApp")
    new_imap_password = _secret_field("IMAP-пароль")
    new_smtp_password = _secret_field("SMTP-пароль (для ответов клиентам письмом)")
    admin_password = _secret_field("Пароль администратора (ADMIN_PASSWORD) — нужен при вводе или замене секретов")

    class Meta:
        model = IntegrationSettings
        fields = [
            "type",
            "purpose",
            "bot_name",
            "phone_number_id",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_user",
            "imap_folder",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_user",
            "smtp_from",
        ]
        help_texts = {"bot_name": "Для Telegram заполняется автоматически по getMe."}

    request = None  # set by IntegrationSettingsAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "smtp_security" in self.fields:  # optional: only mailboxes that reply need SMTP
            self.fields["smtp_security"].required = False

    def clean_smtp_security(self):
        return self.cleaned_data.get("smtp_security") or ImapSecurity.SSL

    def clean(self):
        data = super().clean()
        if any(data.get(FORM_SECRET[name]) for name in SECRET_INPUTS):
            try:
                # A wrong password leaves its audit entry: a form error does not roll back.
                services.admin_password_verify(
                    password=data.get("admin_password"),
                    actor=self.request.user if self.request else None,
                    integration=self.instance if self.instance.pk else None,
                    request=self.request,
                )
            except (services.AdminPasswordError, lockout.TooManyAttempts) as error:
                self.add_error("admin_password", error.detail)
        return data


@admin.register(IntegrationSettings)
class IntegrationSettingsAdmin(admin.ModelAdmin):
    form = IntegrationSettingsForm
    list_display = (
        "id",
        "type",
        "bot_name",
        "purpose",
        "is_active",
        "has_token_display",
        "last_connected_at",
        "last_error",
    )
    list_filter = ("type", "purpose", "is_active")
    readonly_fields = ("is_active", "has_token_display", "last_connected_at", "last_error", "created_at", "updated_at")
    actions = ["check_connection", "activate", "deactivate"]

    @admin.display(description="токен задан", boolean=True)
    def has_token_display(self, obj):
        return obj.has_token

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        return type(form_class.__name__, (form_class,), {"request": request})

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "type") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in form.Meta.fields if name in form.cleaned_data}
        data.update(
            {
                name: form.cleaned_data[FORM_SECRET[name]]
                for name in SECRET_INPUTS
                if form.cleaned_data.get(FORM_SECRET[name])
            }
        )
        admin_password = form.cleaned_data.get("admin_password")
        integration_type = data.pop("type", obj.type)
        allowed = (
            set(services.PLAIN_FIELDS[integration_type]) | set(services.SECRET_INPUTS[integration_type]) | {"purpose"}
        )
        data = {key: value for key, value in data.items() if key in allowed}
        if change:
            saved = services.integration_update(
                actor=request.user, integration=obj, admin_password=admin_password, data=data
            )
        else:
            purpose = data.pop("purpose")
            saved = services.integration_add(
                actor=request.user, admin_password=admin_password, type=integration_type, purpose=purpose, data=data
            )
        obj.pk = saved.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (BusinessError, DjangoValidationError) as error:
            detail = getattr(error, "detail", None) or "; ".join(getattr(error, "messages", [str(error)]))
            self.message_user(request, f"Не сохранено: {detail}", messages.ERROR)
            from django.http import HttpResponseRedirect

            return HttpResponseRedirect(request.get_full_path())

    @admin.action(description="Проверить подключение", permissions=["change"])
    def check_connection(self, request, queryset):
        for integration in queryset:
            if services.integration_check_connection(integration=integration):
                self.message_user(request, f"{integration}: подключение в порядке.", messages.SUCCESS)
            else:
                self.message_user(request, f"{integration}: {integration.last_error}", messages.ERROR)

    @admin.action(description="Включить", permissions=["change"])
    def activate(self, request, queryset):
        for integration in queryset:
            try:
                services.integration_activate(actor=request.user, integration=integration)
            except BusinessError as error:
                self.message_user(request, f"{integration}: {error.detail}", messages.ERROR)

    @admin.action(description="Выключить", permissions=["change"])
    def deactivate(self, request, queryset):
        for integration in queryset:
            services.integration_deactivate(actor=request.user, integration=integration)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InboxItem)
class InboxItemAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "channel",
        "integration",
        "external_id",
        "status",
        "attempts",
        "received_at",
        "lead_number",
        "short_error",
    )
    list_filter = ("status", "channel", "integration")
    search_fields = ("external_id", "lead_number")
    readonly_fields = (
        "channel",
        "integration",
        "external_id",
        "received_at",
        "status",
        "error",
        "attempts",
        "processed_at",
        "lead_pk",
        "lead_number",
    )
    fields = readonly_fields
    actions = ["retry"]
    list_select_related = ("integration",)

    @admin.display(description="ошибка / заметка")
    def short_error(self, obj):
        return (obj.error[:120] + "…") if len(obj.error) > 120 else obj.error

    @admin.action(description="Повторить обработку", permissions=["change"])
    def retry(self, request, queryset):
        ids = list(queryset.filter(status__in=[InboxStatus.PENDING, InboxStatus.FAILED]).values_list("pk", flat=True))
        counts = inbox_reprocess(ids=ids)
        summary = ", ".join(f"{status}: {count}" for status, count in counts.items()) or "нечего повторять"
        self.message_user(request, f"Повторная обработка: {summary}.")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
