"""Routes of the integrations app, mounted under /api/v1/."""

from django.urls import path

from apps.integrations.api.views import IntegrationSettingsViewSet
from apps.integrations.telegram.views import TelegramWebhookView
from apps.integrations.webform.views import PublicLeadView
from apps.integrations.whatsapp.views import WhatsAppWebhookView


def _route(verb: str, method: str, action: str):
    return path(
        f"settings/integrations/{verb}",
        IntegrationSettingsViewSet.as_view({method: action}),
        name=f"integrations-{verb}",
    )


urlpatterns = [
    _route("list", "get", "list"),
    _route("add", "post", "add"),
    _route("update", "post", "update_settings"),
    _route("activate", "post", "activate"),
    _route("deactivate", "post", "deactivate"),
    path("integrations/telegram/<int:pk>/webhook/", TelegramWebhookView.as_view(), name="telegram-webhook"),
    path("integrations/whatsapp/<int:pk>/webhook/", WhatsAppWebhookView.as_view(), name="whatsapp-webhook"),
    path("public/leads/", PublicLeadView.as_view(), name="public-leads"),
]
