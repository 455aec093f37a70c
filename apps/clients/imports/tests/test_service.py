import pytest
from auditlog.models import LogEntry
from django.db import connection

from apps.clients.imports.reader import ImportFileError
from apps.clients.imports.service import import_clients
from apps.clients.models import Client, ClientContact, ClientPassport

pytestmark = pytest.mark.django_db

HEADER = "фамилия;имя;отчество;фамилия_лат;имя_лат;дата_рождения;телефон;email;паспорт_серия;паспорт_номер;паспорт_тип"


def csv_bytes(*rows: str, header: str = HEADER, encoding: str = "utf-8", bom: bool = False) -> bytes:
    text = "\r\n".join([header, *rows]) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


GOOD = [
    "Иванов;Иван;Иванович;IVANOV;IVAN;15.04.1985;8 (916) 123-45-67;Ivanov@Example.com;4510;123456;",
    "Петрова;Анна;;PETROVA;ANNA;1990-02-01;+7 903 765 43 21;anna@example.com;75;1234567;заграничный",
]


def statuses(report) -> list[str]:
    return [row["status"] for row in report.as_dict()["rows"]]


def test_dry_run_previews_and_writes_nothing():
    report = import_clients(data=csv_bytes(*GOOD), dry_run=True)
    assert report.totals == {"rows": 2, "created": 2, "updated": 0, "duplicate": 0, "rejected": 0}
    assert not Client.objects.exists() and not LogEntry.objects.filter(object_pk="csv-import").exists()


def test_real_run_creates_clients_with_normalised_encrypted_data(operator):
    report = import_clients(data=csv_bytes(*GOOD), actor=operator)
    assert report.totals["created"] == 2
    ivanov = Client.objects.get(last_name="Иванов")
    assert ivanov.operator == operator and ivanov.birth_date.isoformat() == "1985-04-15"
    assert ivanov.search_name == "иванов иван иванович ivanov ivan"
    values = {(c.kind, c.value, c.is_primary) for c in ivanov.contacts.all()}
    assert values == {("phone", "+79161234567", True), ("email", "ivanov@example.com", True)}
    passport = ivanov.passports.get()
    assert (passport.kind, passport.series, passport.number) == ("internal", "4510", "123456")
    assert Client.objects.get(last_name="Петрова").passports.get().kind == "foreign"
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM clients_clientcontact UNION ALL SELECT number FROM clients_clientpassport")
        stored = " ".join(row[0] for row in cursor.fetchall())
    assert "79161234567" not in stored and "ivanov@example.com" not in stored and "123456" not in stored


def test_reimporting_the_same_file_creates_nothing_new():
    data = csv_bytes(*GOOD)
    import_clients(data=data)
    again = import_clients(data=data)
    assert statuses(again) == ["duplicate", "duplicate"]
    first = again.as_dict()["rows"][0]
    assert first["client_id"] == Client.objects.get(last_name="Иванов").pk
    assert first["client_name"] == "Иванов Иван Иванович"
    assert set(first["matched_on"]) == {"passport", "phone", "email"}
    assert Client.objects.count() == 2 and ClientContact.objects.count() == 4 and ClientPassport.objects.count() == 2


def test_duplicates_inside_the_file_are_found():
    rows = [
        GOOD[0],
        "Иванов;Ваня;;;;;+79161234567;;;;",  # same phone, other spelling
        "Сидоров;Пётр;;;;;;;45 10;123 456;",  # same passport, spaces
    ]
    report = import_clients(data=csv_bytes(*rows))
    assert statuses(report) == ["created", "duplicate", "duplicate"]
    second = report.as_dict()["rows"][1]
    assert second["duplicate_of_line"] == 2 and second["client_id"] == Client.objects.get().pk
    assert second["matched_on"] == ["phone"]
    assert Client.objects.count() == 1


def test_rejected_rows_carry_the_reasons():
    rows = [
        ";Иван;;;;;+79161234567;;;;",
        "Петров;Пётр;;;;31.02.1990;+79161234568;;;;",
        "Сидоров;Сидор;;;;;12345;;;;",
        "Козлов;Костя;;;;;;not-an-email;;;",
        "Орлов;Олег;;;;;;;;;",
        "Смирнов;Семён;;;;;;;4510;12;",
    ]
    report = import_clients(data=csv_bytes(*rows))
    codes = [[error["code"] for error in row["errors"]] for row in report.as_dict()["rows"]]
    assert codes == [["missing_name"], ["bad_date"], ["bad_phone"], ["bad_email"], ["no_identifier"], ["bad_passport"]]
    assert report.totals["rejected"] == 6 and not Client.objects.exists()
    message = report.as_dict()["rows"][2]["errors"][0]
    assert message["field"] == "phone" and "телефон" in message["message"]


def test_windows_1251_and_comma_and_bom_are_detected():
    rows = [r.replace(";", ",") for r in GOOD]
    cp1251 = import_clients(data=csv_bytes(*rows, header=HEADER.replace(";", ","), encoding="cp1251"), dry_run=True)
    assert (cp1251.encoding, cp1251.delimiter, cp1251.totals["created"]) == ("windows-1251", ",", 2)
    bom = import_clients(data=csv_bytes(*GOOD, bom=True), dry_run=True)
    assert (bom.encoding, bom.delimiter, bom.totals["created"]) == ("utf-8-sig", ";", 2)
    plain = import_clients(data=csv_bytes(*GOOD), dry_run=True)
    assert plain.encoding == "utf-8"


def test_english_headers_and_unknown_columns():
    header = "Last Name,First Name,phone,E-mail,shoe_size"
    report = import_clients(data=csv_bytes("Smith,John,+44 20 7946 0958,john@example.com,44", header=header))
    assert report.totals["created"] == 1 and report.unknown_columns == ["shoe_size"]
    assert Client.objects.get().contacts.get(kind="phone").value == "+442079460958"


def test_on_duplicate_update_fills_what_the_client_lacks():
    import_clients(data=csv_bytes("Иванов;Иван;;;;;+79161234567;;;;"))
    report = import_clients(
        data=csv_bytes("Иванов;Иван;Иванович;IVANOV;IVAN;15.04.1985;+79161234567;new@example.com;4510;123456;"),
        on_duplicate="update",
    )
    assert statuses(report) == ["updated"]
    client = Client.objects.get()
    assert client.middle_name == "Иванович" and client.first_name_latin == "IVAN"
    assert client.contacts.filter(kind="email").get().value == "new@example.com"
    assert client.passports.count() == 1
    again = import_clients(
        data=csv_bytes("Иванов;Иван;Иванович;IVANOV;IVAN;15.04.1985;+79161234567;new@example.com;4510;123456;"),
        on_duplicate="update",
    )
    assert statuses(again) == ["duplicate"]


def test_row_matching_two_clients_is_rejected_as_ambiguous():
    import_clients(data=csv_bytes("Иванов;Иван;;;;;+79161234567;;;;", "Петров;Пётр;;;;;;p@example.com;;;"))
    report = import_clients(data=csv_bytes("Иванов;Иван;;;;;+79161234567;p@example.com;;;"), on_duplicate="update")
    row = report.as_dict()["rows"][0]
    assert row["status"] == "rejected" and row["errors"][0]["code"] == "ambiguous_match"
    assert len(row["matches"]) == 2


def test_small_batches_keep_dedup_across_batches():
    rows = [f"Клиент{n};Имя;;;;;+7916000{n:04d};;;;" for n in range(7)] + ["Повтор;Имя;;;;;+79160000003;;;;"]
    report = import_clients(data=csv_bytes(*rows), batch_size=3)
    assert report.totals == {"rows": 8, "created": 7, "updated": 0, "duplicate": 1, "rejected": 0}
    assert Client.objects.count() == 7


def test_import_writes_one_audit_entry_without_personal_data(operator):
    import_clients(data=csv_bytes(*GOOD), file_name="clients.csv", actor=operator)
    entry = LogEntry.objects.get(object_pk="csv-import")
    assert entry.actor == operator
    assert entry.additional_data["totals"]["created"] == 2
    assert entry.additional_data["file_name"] == "clients.csv"
    dumped = str(entry.additional_data) + str(entry.changes) + entry.changes_text
    assert "79161234567" not in dumped and "Иванов" not in dumped and "123456" not in dumped


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"   \r\n", "empty_file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not_csv"),
        ("город;страна\r\nМосква;Россия\r\n".encode(), "wrong_columns"),
        ("фамилия;имя;имя\r\nА;Б;В\r\n".encode(), "wrong_columns"),
        ('фамилия;имя;телефон\r\n"Иванов;Иван;+79161234567\r\n'.encode() + b"x" * 200_000, "not_csv"),
    ],
)
def test_broken_files_are_refused_before_anything_is_written(data, code):
    with pytest.raises(ImportFileError) as error:
        import_clients(data=data)
    assert error.value.code == code and error.value.detail
    assert not Client.objects.exists()


def test_dedup_without_the_snapshot_queries_each_batch(monkeypatch):
    from apps.clients.imports.service import _KnownOwners

    import_clients(data=csv_bytes(*GOOD))
    monkeypatch.setattr(_KnownOwners, "SNAPSHOT_LIMIT", 0)
    again = import_clients(data=csv_bytes(*GOOD, "Новый;Клиент;;;;;+79160000099;;;;"), batch_size=2)
    assert statuses(again) == ["duplicate", "duplicate", "created"]


def test_snapshot_knows_an_index_held_by_two_clients():
    from apps.clients.imports.service import _read_all_owners
    from apps.clients.normalization import contact_index

    first = Client.objects.create(last_name="А", first_name="А")
    second = Client.objects.create(last_name="Б", first_name="Б")
    index = contact_index("phone", "+79161234567")
    ClientContact.objects.create(client=first, kind="phone", value="+79161234567", blind_index=index)
    ClientContact.objects.create(client=second, kind="whatsapp", value="+79161234567", blind_index=index)
    assert _read_all_owners()[index] == {first.pk, second.pk}
    report = import_clients(data=csv_bytes("В;В;;;;;8 916 123-45-67;;;;"), batch_size=1)
    assert report.as_dict()["rows"][0]["errors"][0]["code"] == "ambiguous_match"
