"""Routes of the CSV import, mounted before the clients router (see apps/clients/api/urls.py)."""

urlpatterns: list = []
