"""Top-level URLs: admin, /api/v1/ (each app's api/urls.py), the schema and Swagger, health."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.core.views import file_download
from travelcrm import health
from travelcrm.api import ApiViewMixin

admin.site.site_header = "Travel CRM"
admin.site.site_title = "Travel CRM"
admin.site.index_title = "Управление"
# «Открыть сайт» in the admin's header: the agency's site when configured, else the public request form.
admin.site.site_url = settings.AGENCY_SITE_URL or "/form/"
# No app list beside every page: it took 300 px of a 1366 px laptop screen from the lists (the app
# list is on «Сегодня», the home page, and every page has the search box and breadcrumbs).
admin.site.enable_nav_sidebar = False



class SchemaView(ApiViewMixin, SpectacularAPIView):
    """The OpenAPI schema, open like the Swagger page (it names no data, only the shapes)."""

    public = True


class SwaggerView(ApiViewMixin, SpectacularSwaggerView):
    public = True


class RedocView(ApiViewMixin, SpectacularRedocView):
    public = True
    template_name = "api/redoc.html"  # no web fonts from outside: it works offline


API_APPS = ["accounts", "jobs", "clients", "leads", "orders", "documents", "finance", "integrations", "audit"]

urlpatterns = [
    path("", include("apps.workplace.urls")),  # /admin/ is «Сегодня», /admin/search/ the search box
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("api/v1/", include([path("", include(f"apps.{app}.api.urls")) for app in API_APPS])),
    path("", include("apps.integrations.public_urls")),
    # Stored files are encrypted (issue 14): expiring links to the app, which decrypts and streams.
    path("files/<str:token>/", file_download, name="file-download"),
]

handler400 = "travelcrm.api.bad_request_view"
handler403 = "travelcrm.api.permission_denied_view"
handler404 = "travelcrm.api.not_found_view"
handler500 = "travelcrm.api.server_error_view"
