"""The audit log in the admin: django-auditlog's own page, with a search that fits our User.

auditlog searches the actor's first_name / last_name, which our User does not have (it has
full_name): any search on «Записи в журнале» was a 500. Same page, search fields that exist.
"""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin


class AuditLogEntryAdmin(LogEntryAdmin):
    search_fields = ["object_repr", "changes", "actor__full_name", "actor__email"]


if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)
admin.site.register(LogEntry, AuditLogEntryAdmin)
