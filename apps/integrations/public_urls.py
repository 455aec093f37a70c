"""Public (non-API) pages of the integrations app: the web form at /form/ and its consent text."""

from django.urls import path

from apps.integrations import consent_views
from apps.integrations.webform import views

urlpatterns = [
    path("form/", views.form_page, name="webform"),
    path("form/consent/", views.consent_page, name="webform-consent"),
    path("consent/<str:token>/", consent_views.consent_confirm, name="consent-confirm"),
]
