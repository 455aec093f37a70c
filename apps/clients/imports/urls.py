"""Routes of the CSV import, mounted before the clients router (see apps/clients/api/urls.py)."""

from django.urls import path

from apps.clients.imports.api import ClientImportExampleView, ClientImportView

urlpatterns = [
    path("clients/import/", ClientImportView.as_view(), name="clients-import"),
    path("clients/import/example/", ClientImportExampleView.as_view(), name="clients-import-example"),
]
