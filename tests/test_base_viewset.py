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


def test_filterset_is_not_built_without_filter_parameters(supervisor_api, staff, monkeypatch):
    """No filter parameter → the FilterSet (a deep copy of every filter and a form) is skipped."""
    from django_filters import FilterSet

    built = []
    original_init = FilterSet.__init__

    def counting_init(self, *args, **kwargs):
        built.append(type(self).__name__)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(FilterSet, "__init__", counting_init)
    everyone = emails(supervisor_api.get(URL, {"page_size": 50, "ordering": "email"}))
    assert built == []
    assert len(everyone) == User.objects.count()
    # Any parameter of the filterset builds it, so filtering and its 400s work as before.
    assert emails(supervisor_api.get(URL, {"role": "accountant"})) == ["a-acc@test.travelcrm"]
    assert len(built) == 1
    assert supervisor_api.get(URL, {"role": "pilot"}).status_code == 400


def test_permission_check_does_not_build_the_views_queryset(operator_api, accountant_api, monkeypatch):
    """RolePermission needs only the model: it reads the class-level queryset, not get_queryset()."""
    from apps.clients.api.views import ClientViewSet

    calls = []
    original = ClientViewSet.get_queryset

    def counting(self):
        calls.append(self.action)
        return original(self)

    monkeypatch.setattr(ClientViewSet, "get_queryset", counting)
    assert operator_api.get("/api/v1/clients/").status_code == 200
    assert calls == []  # the list reads its rows through selectors, the permission needs only the model
    assert accountant_api.post("/api/v1/clients/", {"last_name": "Х"}, format="json").status_code == 403
