from django.urls import include, path
from rest_framework.routers import SimpleRouter

router = SimpleRouter(trailing_slash=True)

urlpatterns = [
    # The import routes come first so "clients/import/" is not taken for a client id.
    path("", include("apps.clients.imports.urls")),
    *router.urls,
]
