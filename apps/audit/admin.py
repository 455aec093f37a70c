"""Audit pages of the admin, in Russian, read-only and undeletable through the app.

- «Журнал изменений»: django-auditlog's entries with Russian actions, model and field names, and a
  search that fits our User (auditlog searches first_name / last_name, which it does not have).
- «Журнал доступа к персональным данным»: who saw which clients' unmasked data.
- «Акты об уничтожении ПДн»: with the PDF act.
"""

from auditlog.models import LogEntry
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.audit import labels
from apps.audit.models import AccessLogEntry, DestructionRecord
from apps.core.paging import LargeTableAdminMixin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Nobody adds, edits or deletes audit records through the app, not even a superuser."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


class AuditLogEntryAdmin(LargeTableAdminMixin, ReadOnlyAdmin):
    list_display = ("when", "action_display", "model_display", "object_display", "actor_display", "address")
    list_filter = (ActionFilter, EventFilter, "content_type", "timestamp")
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
              "details")
    readonly_fields = fields
