"""The clients API: shapes, 409 duplicates, masking per role, filters, nested endpoints, query budget."""

import io

import pytest
from django.test.utils import CaptureQueriesContext

from apps.clients.models import Client
from apps.clients.tests.factories import make_client
from conftest import fetch_download

pytestmark = pytest.mark.django_db

URL = "/api/v1/clients/"

IVAN = {
    "last_name": "Иванов", "first_name": "Иван", "middle_name": "Иванович",
    "last_name_latin": "IVANOV", "first_name_latin": "IVAN", "birth_date": "1985-03-01",
    "phones": ["8 (916) 123-45-67"], "emails": ["Ivan@Mail.ru"],
    "passports": [{"kind": "internal", "series": "4510", "number": "123012", "issue_date": "2010-05-01",
                   "expiry_date": None, "issued_by": "ОВД Тверского района"}],
    "notes": "Любит Турцию",
}


def test_create_and_read_back(operator_api, operator):
    response = operator_api.post(URL, IVAN, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phones"] == ["+79161234567"] and body["emails"] == ["ivan@mail.ru"]
    assert body["passports"][0]["series"] == "4510" and body["passports"][0]["number"] == "123012"
    assert body["birth_date"] == "1985-03-01"
    assert body["full_name"] == "Иванов Иван Иванович"
    assert body["operator"] == operator.pk
    assert {"id", "created_at", "updated_at"} <= set(body)
    detail = operator_api.get(f"{URL}{body['id']}/").json()
    assert detail.pop("consents") == []  # the card adds the consents (152-FZ)
    assert detail == body


def test_duplicate_answers_409_and_link_answers_200(operator_api):
    first = operator_api.post(URL, IVAN, format="json").json()
    duplicate = {**IVAN, "phones": ["+7 916 1234567"], "emails": [], "passports": [], "last_name": "Другой"}
    response = operator_api.post(URL, duplicate, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "code": "duplicate_client", "detail": response.json()["detail"], "fields": {},
        "matches": [{"id": first["id"], "name": "Иванов Иван Иванович", "matched_on": ["phone"]}],
    }
    assert Client.objects.count() == 1
    linked = operator_api.post(f"{URL}?on_duplicate=link", duplicate, format="json")
    assert linked.status_code == 200 and linked.json()["id"] == first["id"]
    assert operator_api.post(f"{URL}?on_duplicate=maybe", duplicate, format="json").status_code == 400


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"phones": ["+7 123"]}, "phones.0"),
        ({"emails": ["ivan@"]}, "emails.0"),
        ({"birth_date": "1985-13-01"}, "birth_date"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"first_name": ""}, "first_name"),
        ({"passports": [{"kind": "internal", "number": "12"}]}, "passports.0.number"),
        ({"passports": [{"kind": "spaceship", "number": "12"}]}, "passports.0.kind"),
        ({"phones": "+79161234567"}, "phones"),
    ],
)
def test_bad_input_gives_400_with_field_errors(operator_api, patch, field):
    response = operator_api.post(URL, {**IVAN, **patch}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["fields"], body
    assert Client.objects.count() == 0


def test_patch_updates_and_409_on_another_clients_email(operator_api):
    ivan = operator_api.post(URL, IVAN, format="json").json()
    other = make_client(emails=["petr@mail.ru"])
    response = operator_api.patch(f"{URL}{ivan['id']}/", {"phones": ["+79160000001"], "notes": "VIP"}, format="json")
    assert response.status_code == 200
    assert response.json()["phones"] == ["+79160000001"] and response.json()["notes"] == "VIP"
    response = operator_api.patch(f"{URL}{ivan['id']}/", {"emails": ["PETR@mail.ru"]}, format="json")
    assert response.status_code == 409 and response.json()["matches"][0]["id"] == other.pk


def test_delete_is_soft_and_needs_supervisor(operator_api, supervisor_api):
    client = make_client()
    assert operator_api.delete(f"{URL}{client.pk}/").status_code == 403
    assert supervisor_api.delete(f"{URL}{client.pk}/").status_code == 204
    assert supervisor_api.get(f"{URL}{client.pk}/").status_code == 404
    assert Client.all_objects.get(pk=client.pk).is_deleted


def test_accountant_sees_masked_personal_data_and_cannot_write(accountant_api):
    client = make_client(birth_date="1985-03-01", phones=["+79161234567"], emails=["ivan@mail.ru"],
                         passports=[{"kind": "internal", "series": "4510", "number": "123012", "issued_by": "ОВД"}])
    body = accountant_api.get(f"{URL}{client.pk}/").json()
    assert body["phones"] == ["+7 *** ***-45-67"]
    assert body["emails"] == ["i***@mail.ru"]
    assert body["birth_date"] == "**.**.1985"
    passport = body["passports"][0]
    assert f"{passport['series']} {passport['number']}" == "45** ***012" and passport["issued_by"] == "***"
    assert accountant_api.post(URL, IVAN, format="json").status_code == 403
    assert accountant_api.patch(f"{URL}{client.pk}/", {"notes": "x"}, format="json").status_code == 403


def test_anonymous_is_refused(api_client):
    assert api_client.get(URL).status_code == 401


def test_filters_by_phone_email_passport_and_search(operator_api):
    ivan = make_client(last_name="Иванов", last_name_latin="Ivanov", phones=["+79161234567"],
                       emails=["ivan@mail.ru"], passports=[{"kind": "foreign", "series": "75", "number": "7654321"}])
    make_client(last_name="Петров")

    def ids(query):
        response = operator_api.get(URL, query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids({"phone": "8 916 123-45-67"}) == [ivan.pk]
    assert ids({"email": "IVAN@mail.ru"}) == [ivan.pk]
    assert ids({"passport": "75 7654321"}) == [ivan.pk]
    assert ids({"search": "иванов"}) == [ivan.pk]
    assert ids({"search": "IVAN"}) == [ivan.pk]
    assert ids({"phone": "+79990000000"}) == []
    response = operator_api.get(URL, {"phone": "abc"})
    assert response.status_code == 400 and "phone" in response.json()["fields"]


@pytest.mark.parametrize(("name", "value"), [
    ("phone", "8 916 123-45-67"), ("email", "ivan@mail.ru"), ("passport", "75 7654321"),
    ("phone", "abc"),  # refused before it is even parsed: no hint whether a value is well formed
])
def test_exact_lookups_are_refused_without_the_personal_data_right(accountant_api, name, value):
    """A masked value must not be recoverable by guessing it into ?phone= / ?email= / ?passport=."""
    make_client(last_name="Иванов", phones=["+79161234567"], emails=["ivan@mail.ru"],
                passports=[{"kind": "foreign", "series": "75", "number": "7654321"}])
    response = accountant_api.get(URL, {name: value})
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "personal_data_forbidden" and "персональные данные" in body["detail"]
    assert "results" not in body
    by_name = accountant_api.get(URL, {"search": "иванов"})
    assert by_name.status_code == 200 and by_name.json()["count"] == 1


def test_merge_endpoint(operator_api, supervisor_api):
    target, other = make_client(), make_client(emails=["other@mail.ru"])
    assert operator_api.post(f"{URL}{target.pk}/merge/", {"other_id": other.pk}, format="json").status_code == 403
    response = supervisor_api.post(f"{URL}{target.pk}/merge/", {"other_id": other.pk}, format="json")
    assert response.status_code == 200
    assert "other@mail.ru" in response.json()["emails"]
    self_merge = supervisor_api.post(f"{URL}{target.pk}/merge/", {"other_id": target.pk}, format="json")
    assert self_merge.status_code == 400 and self_merge.json()["code"] == "merge_self"
    unknown = supervisor_api.post(f"{URL}{target.pk}/merge/", {"other_id": 999999}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "merge_not_found"
    bad = supervisor_api.post(f"{URL}{target.pk}/merge/", {"other_id": "x"}, format="json")
    assert bad.status_code == 400 and "other_id" in bad.json()["fields"]


def test_nested_contacts_and_passports(operator_api, accountant_api):
    client = make_client(phones=["+79161234567"])
    other = make_client(phones=["+79169999999"])
    base = f"{URL}{client.pk}"
    created = operator_api.post(f"{base}/contacts/", {"kind": "telegram", "value": "@ivan_t"}, format="json")
    assert created.status_code == 201 and created.json()["value"] == "ivan_t"
    duplicate = operator_api.post(f"{base}/contacts/", {"kind": "phone", "value": "89169999999"}, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["matches"][0]["id"] == other.pk
    bad = operator_api.post(f"{base}/contacts/", {"kind": "phone", "value": "12"}, format="json")
    assert bad.status_code == 400 and "value" in bad.json()["fields"]
    contact_id = created.json()["id"]
    renamed = operator_api.patch(f"{base}/contacts/{contact_id}/", {"value": "ivan_2"}, format="json")
    assert renamed.json()["value"] == "ivan_2"
    assert operator_api.delete(f"{base}/contacts/{contact_id}/").status_code == 204
    masked = {row["kind"]: row["value"] for row in accountant_api.get(f"{base}/contacts/").json()}
    assert masked["phone"] == "+7 *** ***-45-67" and "telegram" not in masked

    passport = operator_api.post(
        f"{base}/passports/", {"kind": "foreign", "series": "75", "number": "1112223", "expiry_date": "2030-01-01"},
        format="json",
    )
    assert passport.status_code == 201, passport.content
    passport_id = passport.json()["id"]
    updated = operator_api.patch(f"{base}/passports/{passport_id}/", {"is_active": False}, format="json")
    assert updated.status_code == 200 and updated.json()["is_active"] is False
    reversed_dates = operator_api.patch(
        f"{base}/passports/{passport_id}/", {"issue_date": "2031-01-01"}, format="json"
    )
    assert reversed_dates.status_code == 400
    assert operator_api.get(f"{URL}999999/passports/").status_code == 404


def test_files_upload_download_and_checks(operator_api, accountant_api, bucket):
    client = make_client()
    base = f"{URL}{client.pk}/files/"
    pdf = io.BytesIO(b"%PDF-1.4 scan of a passport")
    pdf.name = "Иванов паспорт.pdf"
    response = operator_api.post(base, {"file": pdf, "description": "Скан"}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["original_name"] == "Иванов паспорт.pdf" and body["content_type"] == "application/pdf"
    stored = client.files.get()
    assert stored.file.name.startswith("clients/") and "Иванов" not in stored.file.name
    assert fetch_download(body["download_url"])[0] == b"%PDF-1.4 scan of a passport"
    redirect = operator_api.get(f"{base}{body['id']}/download/")
    assert redirect.status_code == 302
    masked = accountant_api.get(f"{base}{body['id']}/").json()
    assert masked["download_url"] is None and masked["original_name"] == "***"
    assert accountant_api.get(f"{base}{body['id']}/download/").status_code == 403

    fake = io.BytesIO(b"MZ this is an exe")
    fake.name = "scan.pdf"
    response = operator_api.post(base, {"file": fake}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()["fields"]
    text = io.BytesIO(b"hello")
    text.name = "notes.txt"
    assert operator_api.post(base, {"file": text}, format="multipart").status_code == 400
    assert operator_api.post(base, {}, format="multipart").status_code == 400
    assert operator_api.delete(f"{base}{body['id']}/").status_code == 204


def _headers_of(url: str) -> dict:
    return fetch_download(url)[1]


def test_file_type_comes_from_its_bytes_and_downloads_are_attachments(operator_api, bucket):
    client = make_client()
    base = f"{URL}{client.pk}/files/"
    html = io.BytesIO(b"<html><body><script>fetch('/api/v1/clients/')</script></body></html>")
    html.name = "scan.tiff"  # the test client declares image/tiff from the name
    disguised = operator_api.post(base, {"file": html}, format="multipart")
    assert disguised.status_code == 400
    assert disguised.json()["fields"]["file"] == ["Содержимое файла не соответствует его типу."]
    assert not client.files.exists()

    png = io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 16)
    png.name = "Паспорт Иванова.png"
    body = operator_api.post(base, {"file": png}, format="multipart").json()
    assert body["content_type"] == "image/png"
    headers = _headers_of(body["download_url"])
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%D0%9F%D0%B0%D1%81%D0%BF%D0%BE%D1%80%D1%82" in headers["Content-Disposition"]
    redirect = operator_api.get(f"{base}{body['id']}/download/")
    assert redirect.status_code == 302
    # Stored files are encrypted: the link is the app's, which decrypts and streams (issue 14).
    assert _headers_of(redirect["Location"])["Content-Disposition"].startswith("attachment;")


def test_list_query_budget_is_constant(operator_api, django_assert_max_num_queries):
    from django.db import connection

    for n in range(55):
        make_client(
            contacts=[{"kind": "telegram", "value": f"user_{n}"}],
            passports=[{"kind": "internal", "series": "4510", "number": f"{n:06d}"},
                       {"kind": "foreign", "series": "75", "number": f"{n:07d}"}],
        )
    counts = {}
    for page_size in (5, 50):
        operator_api.get(URL, {"page_size": 1})  # warm the permission cache of this user object
        with CaptureQueriesContext(connection) as queries:
            response = operator_api.get(URL, {"page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == page_size
        assert len(response.json()["results"][0]["passports"]) == 2
        counts[page_size] = len(queries)
    assert counts[5] == counts[50]
    with django_assert_max_num_queries(6):
        operator_api.get(URL, {"page_size": 50})


def test_file_over_the_size_limit_is_refused(operator_api, settings, bucket):
    settings.MAX_UPLOAD_SIZE = 1024
    client = make_client()
    big = io.BytesIO(b"%PDF" + b"0" * 2048)
    big.name = "big.pdf"
    response = operator_api.post(f"{URL}{client.pk}/files/", {"file": big}, format="multipart")
    assert response.status_code == 400
    assert "размер" in response.json()["fields"]["file"][0]
    assert not client.files.exists()


def test_malformed_bodies_are_400_not_500(operator_api):
    assert operator_api.post(URL, [1, 2], format="json").status_code == 400
    assert operator_api.post(URL, "{broken", content_type="application/json").status_code == 400
    response = operator_api.post(URL, {**IVAN, "passports": [{"number": None}]}, format="json")
    assert response.status_code == 400
    response = operator_api.post(URL, {**IVAN, "phones": [None]}, format="json")
    assert response.status_code == 400
    assert operator_api.get(URL, {"page_size": "abc"}).status_code == 400  # refused at the door, not ignored
    assert operator_api.get(f"{URL}abc/").status_code == 404


@pytest.mark.parametrize("as_role", ["operator_api", "accountant_api"])
def test_list_rows_equal_the_detail(request, as_role):
    """The list reads plain rows with JSON-aggregated children; it must render exactly as the detail."""
    api = request.getfixturevalue(as_role)
    client = make_client(
        birth_date="1985-03-01", contacts=[{"kind": "telegram", "value": "ivan_t"}],
        phones=["+79161234567", "+79161234568"], emails=["ivan@mail.ru"],
        passports=[{"kind": "internal", "series": "4510", "number": "123012", "issue_date": "2010-01-02"},
                   {"kind": "foreign", "series": "75", "number": "1234567", "expiry_date": "2030-01-01",
                    "is_active": False, "issued_by": "МВД 77810"}],
    )
    make_client()
    listed = {row["id"]: row for row in api.get(URL).json()["results"]}
    detail = api.get(f"{URL}{client.pk}/").json()
    detail.pop("consents")  # only the card shows consents
    assert listed[client.pk] == detail


def test_who_cannot_see_personal_data_cannot_overwrite_it(make_user, client_as):
    from django.contrib.auth.models import Permission

    clerk = make_user("accountant")
    clerk.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="clients", codename__in=["change_client", "add_clientcontact"]
    ))
    api = client_as(clerk)
    client = make_client(phones=["+79161234567"])
    assert api.patch(f"{URL}{client.pk}/", {"notes": "Оплатил"}, format="json").status_code == 200
    refused = api.patch(f"{URL}{client.pk}/", {"phones": ["+79160000000"]}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert api.post(f"{URL}{client.pk}/contacts/", {"kind": "phone", "value": "+79160000000"},
                    format="json").status_code == 403
    assert [c.value for c in client.contacts.filter(kind="phone")] == ["+79161234567"]
