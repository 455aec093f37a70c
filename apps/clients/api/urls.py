from django.urls import include, path
from rest_framework.routers import SimpleRouter

from apps.clients.api.views import ClientFileViewSet, ClientViewSet, ContactViewSet, PassportViewSet

router = SimpleRouter(trailing_slash=True)
router.register(r"clients", ClientViewSet, basename="client")
router.register(r"clients/(?P<client_id>\d+)/contacts", ContactViewSet, basename="client-contact")
router.register(r"clients/(?P<client_id>\d+)/passports", PassportViewSet, basename="client-passport")
router.register(r"clients/(?P<client_id>\d+)/files", ClientFileViewSet, basename="client-file")

urlpatterns = [
    # The import routes come first so "clients/import/" is not taken for a client id.
    path("", include("apps.clients.imports.urls")),
    *router.urls,
]
