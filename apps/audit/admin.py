"""Audit pages of the admin, in Russian, read-only and undeletable through the app.

- «Журнал изменений»: django-auditlog's entries with Russian actions, model and field names, and a
  search that fits our User (auditlog searches first_name / last_name, which it does not have).
- «Журнал доступа к персональным данным»: who saw which clients' unmasked data.
- «Акты об уничтожении ПДн»: with the PDF act.
"""

from auditlog.models import LogEntry
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.audit import acts, labels, services
from apps.audit.models import AccessLogEntry, DestructionRecord
from apps.clients import consents
from apps.clients.card import register_client_card_section
from apps.clients.models import PERSONAL_DATA_PERMISSION, Client, Consent, ConsentChannel, ConsentPurpose
from apps.clients.pickers import ClientPickerAdminMixin
from apps.core import access
from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import BusinessError, ConflictError
from apps.core.paging import LargeTableAdminMixin
from apps.documents.consent import consent_pdf, current_consent_text


class ActionFilter(admin.SimpleListFilter):
    title = _("действие")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(str(action), label) for action, label in labels.ACTION_LABELS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(action=int(self.value())) if self.value() and self.value().isdigit() else queryset


class EventFilter(admin.SimpleListFilter):
    title = _("событие")
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return list(labels.EVENT_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(additional_data__event=self.value()) if self.value() else queryset


class ModelFilter(admin.SimpleListFilter):
    """The kinds of records the log holds, named in Russian (not every content type of the project:
    library models such as JWT tokens or the job queue's tables never reach this log)."""

    title = _("тип записи")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        from auditlog.registry import auditlog
        from django.contrib.contenttypes.models import ContentType

        types = ContentType.objects.get_for_models(*auditlog.get_models()).values()
        return sorted(((str(ct.pk), labels.model_label(ct)) for ct in types), key=lambda item: item[1])

    def queryset(self, request, queryset):
        return queryset.filter(content_type_id=int(self.value())) if (self.value() or "").isdigit() else queryset


class WhenFilter(admin.DateFieldListFilter):
    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = _("дата")


class AuditLogEntryAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    list_display = ("when", "action_display", "model_display", "object_display", "actor_display", "address")
    list_filter = (ActionFilter, EventFilter, ModelFilter, ("timestamp", WhenFilter))
    list_select_related = ("actor", "content_type")
    search_fields = ["object_repr", "object_pk", "actor__full_name", "actor__email"]
    date_hierarchy = "timestamp"
    fields = ("when", "action_display", "model_display", "object_id_display", "object_display", "actor_display",
              "address", "changes_display", "data_display")
    readonly_fields = fields

    @admin.display(description=_("дата и время"), ordering="timestamp")
    def when(self, entry):
        return timezone.localtime(entry.timestamp).strftime("%d.%m.%Y %H:%M:%S")

    @admin.display(description=_("запись"))
    def object_display(self, entry):
        return entry.object_repr

    @admin.display(description=_("номер записи"))
    def object_id_display(self, entry):
        return entry.object_pk or "—"

    @admin.display(description=_("IP-адрес"))
    def address(self, entry):
        return entry.remote_addr or "—"

    @admin.display(description=_("действие"))
    def action_display(self, entry):
        return labels.action_label(entry)

    @admin.display(description=_("объект"))
    def model_display(self, entry):
        return labels.model_label(entry.content_type)

    @admin.display(description=_("пользователь"))
    def actor_display(self, entry):
        return str(entry.actor) if entry.actor_id else (entry.actor_email or "—")

    @admin.display(description=_("изменения"))
    def changes_display(self, entry):
        rows = labels.changes_readable(entry)
        if not rows:
            return "—"
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html("<table><tr><th>Поле</th><th>Было</th><th>Стало</th></tr>{}</table>", body)

    @admin.display(description=_("подробности"))
    def data_display(self, entry):
        data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
        items = [(key, value) for key, value in data.items() if key != "event"]
        return format_html_join("", "<div><b>{}</b>: {}</div>", items) if items else "—"


LogEntry._meta.verbose_name = _("запись журнала изменений")
# auditlog's str() of an entry is English («Logged …»): page titles and breadcrumbs read it.
LogEntry.__str__ = lambda entry: f"{labels.action_label(entry)}: {entry.object_repr}"  # type: ignore[method-assign]
LogEntry._meta.verbose_name_plural = _("журнал изменений и событий")
if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)
admin.site.register(LogEntry, AuditLogEntryAdmin)


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    list_display = ("at", "user", "clients_display", "categories_display", "method", "endpoint", "remote_addr")
    list_filter = ("at", "channel")
    list_select_related = ("user",)
    search_fields = ["endpoint", "user__email", "user__full_name"]
    date_hierarchy = "at"
    fields = ("at", "user", "clients_display", "categories_display", "method", "endpoint", "channel", "remote_addr",
              "request_id")
    readonly_fields = fields

    @admin.display(description=_("клиенты (номера)"))
    def clients_display(self, entry):
        shown = ", ".join(f"#{pk}" for pk in entry.client_ids[:20])
        return shown + (f" и ещё {len(entry.client_ids) - 20}" if len(entry.client_ids) > 20 else "")

    @admin.display(description=_("категории данных"))
    def categories_display(self, entry):
        return entry.categories_display

    def get_search_results(self, request, queryset, search_term):
        # "#123" or "123" finds the entries about client 123 (the GIN index on client_ids).
        term = search_term.strip().lstrip("#")
        if term.isdigit() and len(term) < 19:
            return queryset.filter(client_ids__contains=[int(term)]), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(DestructionRecord)
class DestructionRecordAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "subject_label", "performed_at", "performed_by_name", "reason")
    list_select_related = ("performed_by",)
    fields = ("subject_label", "client_id", "performed_at", "performed_by_name", "reason", "categories", "method",
              "details", "act_link")
    readonly_fields = fields

    @admin.display(description=_("акт (PDF)"))
    def act_link(self, record):
        url = reverse("admin:audit_destructionrecord_act", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, _("Скачать акт об уничтожении ПДн"))

    def get_urls(self):
        act = path("<int:pk>/act/", self.admin_site.admin_view(_act_view), name="audit_destructionrecord_act")
        return [act, *super().get_urls()]


# --- Anonymisation as an admin action on the clients list ---------------------------------------------


class AnonymizeForm(forms.Form):
    reason = forms.CharField(label=_("Причина уничтожения"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    force = forms.BooleanField(
        label=_("Обезличить, даже если есть заказы в работе"), required=False,
        help_text=_("Действие необратимо: ФИО, контакты, паспорта, файлы и переписка будут уничтожены."),
    )


@admin.action(description=_("Обезличить (152-ФЗ) и составить акт об уничтожении"))
def anonymize_clients(modeladmin, request, queryset):
    if not request.user.has_perms(["clients.change_client", "audit.anonymize_client"]):
        modeladmin.message_user(request, _("Недостаточно прав для обезличивания."), messages.ERROR)
        return None
    form = AnonymizeForm(request.POST if "confirm" in request.POST else None)
    if form.is_valid():
        done = 0
        for client in queryset:
            try:
                record = services.client_anonymize(client=client, actor=request.user, **form.cleaned_data)
            except (BusinessError, ConflictError) as error:
                modeladmin.message_user(request, f"{client}: {error.detail}", messages.ERROR)
                continue
            done += 1
            url = reverse("admin:audit_destructionrecord_change", args=[record.pk])
            modeladmin.message_user(request, format_html('{} — <a href="{}">{}</a>', record.subject_label, url,
                                                         record), messages.SUCCESS)
        if done:
            modeladmin.message_user(request, f"Обезличено клиентов: {done}.", messages.SUCCESS)
        return None
    return TemplateResponse(request, "audit/anonymize_confirm.html", {
        **modeladmin.admin_site.each_context(request),
        "title": _("Обезличивание клиентов (152-ФЗ)"),
        "clients": queryset,
        "form": form,
        "action": "anonymize_clients",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    })


def _add_client_action() -> None:
    client_admin = admin.site._registry.get(Client)
    if client_admin is not None and anonymize_clients not in (client_admin.actions or []):
        client_admin.actions = [*(client_admin.actions or []), anonymize_clients]


_add_client_action()


def _act_view(request, pk):
    if not request.user.has_perm("audit.view_destructionrecord"):
        raise PermissionDenied
    record = DestructionRecord.objects.filter(pk=pk).first()
    if record is None:
        raise Http404
    response = HttpResponse(acts.destruction_act_pdf(record), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="destruction-act-{record.pk}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Consents: on the client card, and a paper consent with its scan ----------------------------------


def consents_card_section(client, request) -> str:
    """The client card's «Согласия на обработку ПДн»: each consent, and how to add a paper one."""
    rows = consents.consents_of_client(client.pk)
    purposes = dict(ConsentPurpose.choices)
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
        (
            consent.get_channel_display(),
            "; ".join(str(purposes.get(p, p)) for p in consent.purposes),
            timezone.localtime(consent.given_at).strftime("%d.%m.%Y %H:%M"),
            timezone.localtime(consent.withdrawn_at).strftime("%d.%m.%Y %H:%M") if consent.withdrawn_at else "—",
            consent.text.version,
        )
        for consent in rows
    ))
    add_url = reverse("admin:clients_consent_add") + f"?client={client.pk}"
    pdf_url = reverse("admin:clients_consent_pdf", args=[client.pk])
    return format_html(
        "<h3>Согласия на обработку ПДн (все каналы, с текстом и отзывом)</h3>"
        "<table><tr><th>Канал</th><th>Цели</th><th>Дано</th><th>Отозвано</th><th>Версия текста</th></tr>{}</table>"
        '<p><a href="{}">Оформить согласие на бумаге (со сканом)</a> · '
        '<a href="{}">Бланк согласия для подписи (PDF)</a></p>',
        body or format_html("<tr><td colspan=5>{}</td></tr>", "Согласий нет."), add_url, pdf_url,
    )


register_client_card_section(consents_card_section)


class PaperConsentForm(forms.ModelForm):
    purposes = forms.MultipleChoiceField(
        label=_("цели"), choices=ConsentPurpose.choices, widget=forms.CheckboxSelectMultiple,
        initial=[ConsentPurpose.CONTRACT, ConsentPurpose.TRANSFER],
    )
    scan_upload = forms.FileField(label=_("скан подписанного согласия"), help_text=_("PDF, JPEG или PNG."))

    class Meta:
        model = Consent
        fields = ("client", "given_at")


@admin.register(Consent)
class ConsentAdmin(ClientPickerAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "client", "channel", "given_at", "withdrawn_at")
    list_filter = ("channel", "given_at")
    list_select_related = ("client",)
    autocomplete_fields = ("client",)
    actions = ["withdraw_consents"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PaperConsentForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("client", "purposes", "given_at", "scan_upload")
        return ("client", "channel", "purposes", "text", "given_at", "withdrawn_at", "withdrawn_by", "evidence_ip",
                "evidence_message_id", "recorded_by", "scan")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # a consent is evidence: withdrawn, never deleted

    def get_urls(self):
        pdf = path("pdf/<int:client_id>/", self.admin_site.admin_view(self.pdf_view), name="clients_consent_pdf")
        return [pdf, *super().get_urls()]

    def pdf_view(self, request, client_id):
        if not request.user.has_perms(["clients.view_client", PERSONAL_DATA_PERMISSION]):
            raise PermissionDenied
        client = Client.objects.filter(pk=client_id).first()
        if client is None:
            raise Http404
        access.note_personal_data_access((client.pk,), (access.BIRTH_DATE,), channel="download")
        response = HttpResponse(consent_pdf(client=client), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="consent-{client.pk}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def save_model(self, request, obj, form, change):
        if change:
            return
        saved = consents.consent_record(
            text=current_consent_text(), channel=ConsentChannel.PAPER, client=form.cleaned_data["client"],
            purposes=form.cleaned_data["purposes"], given_at=form.cleaned_data.get("given_at"),
            recorded_by=request.user, scan=form.cleaned_data["scan_upload"],
        )
        obj.pk = saved.pk

    @admin.action(description=_("Отозвать согласие (затем можно обезличить клиента)"))
    def withdraw_consents(self, request, queryset):
        for consent in queryset.filter(withdrawn_at__isnull=True):
            consents.consent_withdraw(consent=consent, actor=request.user)
            if consent.client_id:
                url = reverse("admin:clients_client_changelist") + f"?id={consent.client_id}"
                self.message_user(request, format_html(
                    'Согласие отозвано. <a href="{}">Обезличить клиента #{}</a> — действие «Обезличить (152-ФЗ)».',
                    url, consent.client_id), messages.WARNING)
