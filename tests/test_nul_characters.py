"""A NUL character cannot be stored by PostgreSQL: refused at the door with a 400, never a 500."""

import pytest

pytestmark = pytest.mark.django_db


def test_login_with_a_nul_in_the_email_is_a_400(api_client):
    """Found by schemathesis: the lockout record of the failed login could not be written (500)."""
    response = api_client.post("/api/v1/auth/token/", "email=a%00b%40example.com&password=x",
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and response.json()["code"] == "nul_character"
    response = api_client.post("/api/v1/auth/token/", {"email": "a\u0000b@example.com", "password": "x"},
                               format="json")
    assert response.status_code == 400 and response.json()["code"] == "nul_character"


def test_a_report_export_with_a_nul_in_its_filters_is_a_400(accountant_api):
    """Found by schemathesis: the export's audit entry could not store the filters in JSON (500)."""
    response = accountant_api.get("/api/v1/reports/sales/csv/?operator=%00")
    assert response.status_code == 400 and response.json()["code"] == "nul_character"


def test_ordinary_requests_pass(accountant_api):
    assert accountant_api.get("/api/v1/reports/sales/").status_code == 200
