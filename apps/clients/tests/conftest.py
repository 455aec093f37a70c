import pytest
from botocore.exceptions import ClientError

from apps.core.storage import ensure_bucket


@pytest.fixture
def bucket():
    try:
        ensure_bucket()
    except ClientError as error:  # another test process created it a moment ago
        if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise
