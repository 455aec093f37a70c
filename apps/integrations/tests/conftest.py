"""Fixtures of the integrations tests: local fakes of Telegram / WhatsApp Graph, bots, the bucket."""

import pytest
from botocore.exceptions import ClientError
from django.core.cache import cache

from apps.core.storage import ensure_bucket
from apps.integrations import services
from apps.integrations.models import IntegrationSettings
from apps.integrations.testing.fake_telegram import FakeTelegram
from apps.integrations.testing.fake_whatsapp import FakeWhatsAppGraph

ADMIN_PASSWORD = "Adm1n-pass-for-tests!"
BOT_TOKEN = "7000001:AAHfakeTokenForTests_abcdefghijklmnopqrstu"
WA_TOKEN = "EAAGfakeWhatsAppAccessToken0123456789"
WA_APP_SECRET = "wa-app-secret-0123456789"
WA_VERIFY = "wa-verify-token-42"


@pytest.fixture(scope="session", autouse=True)
def _bucket():
    try:
        ensure_bucket()
    except ClientError as error:  # created meanwhile by a parallel test run
        if error.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ADMIN_PASSWORD = ADMIN_PASSWORD
    settings.PUBLIC_BASE_URL = "https://crm.example.test"
    settings.HTTP_TIMEOUT_SECONDS = 5
    settings.HTTP_RETRY_BACKOFF_SECONDS = 0
    cache.clear()
    return settings


@pytest.fixture
def fake_telegram(settings):
    fake = FakeTelegram()
    fake.add_bot(BOT_TOKEN, username="travel_sales_bot")
    with fake:
        settings.TELEGRAM_API_BASE_URL = fake.url
        yield fake


@pytest.fixture
def fake_graph(settings):
    fake = FakeWhatsAppGraph(token=WA_TOKEN)
    fake.add_phone_number("100200300")
    with fake:
        settings.WHATSAPP_GRAPH_URL = fake.url + "/v21.0"
        yield fake


@pytest.fixture
def telegram_bot(db, supervisor, fake_telegram) -> IntegrationSettings:
    """An active Telegram bot with its webhook set on the fake."""
    bot = services.integration_add(
        actor=supervisor, admin_password=ADMIN_PASSWORD, type="telegram", purpose="sales", data={"api_token": BOT_TOKEN}
    )
    return services.integration_activate(actor=supervisor, integration=bot)


@pytest.fixture
def whatsapp_number(db, supervisor) -> IntegrationSettings:
    number = services.integration_add(
        actor=supervisor,
        admin_password=ADMIN_PASSWORD,
        type="whatsapp",
        purpose="sales",
        data={
            "api_token": WA_TOKEN,
            "app_secret": WA_APP_SECRET,
            "verify_token": WA_VERIFY,
            "phone_number_id": "100200300",
        },
    )
    return services.integration_activate(actor=supervisor, integration=number)
