import pytest

from apps.core.storage import ensure_bucket


@pytest.fixture
def bucket():
    ensure_bucket()
