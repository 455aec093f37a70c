"""Admin building blocks shared by the apps (the core app registers no models of its own)."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Pages to look at: nobody adds, edits or deletes these rows through the admin, not even a
    superuser (audit records, the job queue, report pages)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
