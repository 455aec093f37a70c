"""The one base viewset (travelcrm.api): pagination, django-filter filtering, search, ordering."""

import pytest

from apps.accounts.models import Role, User

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls")]
URL = "/api/v1/_test/users/"


@pytest.fixture
def staff(make_user):
    return [make_user(Role.OPERATOR, email="b-oper@test.travelcrm"),
            make_user(Role.ACCOUNTANT, email="a-acc@test.travelcrm"),
            make_user(Role.OPERATOR, email="c-oper@test.travelcrm", is_active=False)]


def emails(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["email"] for row in response.json()["results"]]


def test_filter_by_fields(supervisor_api, staff):
    assert emails(supervisor_api.get(URL, {"role": "accountant"})) == ["a-acc@test.travelcrm"]
    assert emails(supervisor_api.get(URL, {"role": "operator", "is_active": "false"})) == ["c-oper@test.travelcrm"]


def test_bad_filter_value_is_400_in_error_format(supervisor_api, staff):
    response = supervisor_api.get(URL, {"role": "pilot"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "role" in response.json()["fields"]


def test_search_and_ordering(supervisor_api, staff):
    assert emails(supervisor_api.get(URL, {"search": "oper", "ordering": "-email"})) == [
        "c-oper@test.travelcrm", "b-oper@test.travelcrm"]
    ordered = emails(supervisor_api.get(URL, {"ordering": "email"}))
    assert ordered == sorted(ordered)


def test_list_runs_a_constant_number_of_queries(supervisor_api, staff, make_user, django_assert_max_num_queries):
    supervisor_api.get(URL)  # loads the forced user's permissions once (JWT requests get them with the user)
    with django_assert_max_num_queries(2):  # count + page
        supervisor_api.get(URL)
    for _ in range(10):
        make_user()
    with django_assert_max_num_queries(2):
        response = supervisor_api.get(URL)
    assert len(emails(response)) == User.objects.count()
