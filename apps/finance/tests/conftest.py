import pytest

from apps.finance.tests.fake_cbr import FakeCbr


@pytest.fixture
def fake_cbr(settings):
    with FakeCbr() as fake:
        settings.CBR_RATES_URL = fake.url
        settings.CBR_RETRY_BACKOFF_SECONDS = 0
        settings.HTTP_TIMEOUT_SECONDS = 2
        yield fake
