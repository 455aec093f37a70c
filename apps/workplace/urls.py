"""The workplace's admin pages, mounted before the admin's own URLs (see travelcrm/urls.py):
/admin/ is «Сегодня» (Django's app list moves to its side column), /admin/search/ the search box."""

from django.contrib import admin
from django.urls import path

from apps.workplace.admin import autocomplete_view, lead_reply_view, search_view, today_view

urlpatterns = [
    path("admin/", admin.site.admin_view(today_view), name="workplace-today"),
    # Django's admin autocomplete, with client labels that tell namesakes apart (same URL and name).
    path("admin/autocomplete/", admin.site.admin_view(autocomplete_view), name="workplace-autocomplete"),
    path("admin/search/", admin.site.admin_view(search_view), name="workplace-search"),
    path("admin/leads/lead/<int:pk>/reply/", admin.site.admin_view(lead_reply_view), name="workplace-lead-reply"),
]
