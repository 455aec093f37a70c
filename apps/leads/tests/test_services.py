import threading

import pytest
from botocore.exceptions import ClientError
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, connections

from apps.core.errors import BusinessError, ConflictError
from apps.core.storage import ensure_bucket
from apps.leads import services
from apps.leads.models import Lead, LeadAttachment, LeadMessage, LeadStatus
from apps.leads.services import IncomingAttachment, lead_ingest
from apps.leads.tests.factories import make_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def _bucket():
    try:
        ensure_bucket()
    except ClientError:  # created meanwhile by a parallel test run
        pass


def ingest(external_id="m1", channel="telegram", sender=None, **kwargs):
    sender = sender if sender is not None else {"name": "Пётр", "telegram_id": "555001"}
    return lead_ingest(channel=channel, external_id=external_id, sender=sender, **kwargs)


def test_ingest_opens_a_numbered_lead_with_its_message():
    result = ingest(text="Хочу в Стамбул на майские", payload={"update_id": 1})
    assert result.created and not result.duplicate
    lead = Lead.objects.get()
    assert lead.number.startswith("L-") and len(lead.number) == 8
    assert lead.status == LeadStatus.NEW and lead.source == "telegram" and lead.external_id == "m1"
    assert lead.contact_telegram == "555001" and lead.contact_name == "Пётр"
    message = lead.messages.get()
    assert message.text == "Хочу в Стамбул на майские" and message.direction == "in"
    assert lead.payload == {"update_id": 1}


def test_numbers_grow_and_are_unique():
    first = ingest("a", sender={"telegram_id": "1"}).lead
    second = ingest("b", sender={"telegram_id": "2"}).lead
    assert int(second.number[2:]) == int(first.number[2:]) + 1


def test_the_same_message_twice_is_one_message():
    first = ingest("dup-1", text="привет")
    again = ingest("dup-1", text="привет")
    assert again.duplicate and not again.created
    assert again.lead.pk == first.lead.pk and again.message.pk == first.message.pk
    assert LeadMessage.objects.count() == 1


def test_same_external_id_in_another_channel_is_another_message():
    ingest("42", channel="telegram", sender={"telegram_id": "1"})
    ingest("42", channel="email", sender={"email": "a@example.com"})
    assert LeadMessage.objects.count() == 2


def test_later_messages_of_the_sender_are_appended_to_the_open_lead():
    first = ingest("m1", text="Здравствуйте")
    second = ingest("m2", text="Ещё вопрос")
    assert not second.created and second.lead.pk == first.lead.pk
    assert list(first.lead.messages.values_list("text", flat=True)) == ["Здравствуйте", "Ещё вопрос"]


def test_an_append_writes_what_changed_and_audits_it_without_personal_data():
    from auditlog.models import LogEntry

    first = ingest("m1", text="Здравствуйте")
    # the sender shared their own phone (Telegram: contact.user_id == from.id): verified
    second = ingest(
        "m2", sender={"name": "Пётр", "telegram_id": "555001", "phone": "+79161234567"}, text="Телефон",
        verified={"phone"},
    )
    assert second.lead.pk == first.lead.pk and not second.created
    lead = Lead.objects.get(pk=first.lead.pk)  # the phone given later was stored, the rest kept
    assert lead.contact_phone == "+79161234567" and lead.phone_index and lead.contact_telegram == "555001"
    assert lead.last_message_at == second.message.received_at and lead.number == first.lead.number
    update = LogEntry.objects.get(content_type__model="lead", object_pk=str(lead.pk), action=LogEntry.Action.UPDATE)
    assert set(update.changes_dict) == {"last_message_at", "updated_at"}  # contacts are excluded from the diff
    assert "79161234567" not in f"{update.changes} {update.changes_text} {update.object_repr}"


def test_statements_of_a_new_lead_an_append_and_a_duplicate(django_assert_max_num_queries):
    ingest("warm-up", sender={"telegram_id": "1"})  # content types cached, as in a running process
    # advisory locks (one statement), known message?, sender's open lead (FOR UPDATE), client by contacts,
    # INSERT lead, INSERT audit entry, INSERT message, defer the new-lead notice (integrations' post_save
    # receiver, issue 16). No savepoint, no SELECT of the lead constraint.
    with django_assert_max_num_queries(8):
        ingest("n1", sender={"telegram_id": "2"})
    # the same, with UPDATE of the changed lead columns instead of INSERT (no re-read for the audit diff)
    with django_assert_max_num_queries(7):
        ingest("n2", sender={"telegram_id": "2"})
    # locks, known message -> the message with its lead
    with django_assert_max_num_queries(3):
        assert ingest("n2", sender={"telegram_id": "2"}).duplicate


def test_the_open_lead_lookup_gives_what_the_orm_gives():
    from apps.leads.contacts import sender_contacts
    from apps.leads.selectors import lead_open_of_sender_locked

    lead = ingest("1", channel="whatsapp", sender={"name": "Анна", "whatsapp_id": "79161234567"},
                  payload={"form": {"wishes": "Турция"}}).lead
    ingest("2", channel="whatsapp", sender={"name": "Борис", "whatsapp_id": "79160000000"})  # another sender
    # a phone the sender proved (a Telegram contact of their own) finds their WhatsApp lead
    contacts = sender_contacts({"phone": "+7 916 123-45-67"}, verified={"phone"})
    found = lead_open_of_sender_locked(contacts.lead_terms())
    expected = Lead.objects.get(pk=lead.pk)
    fields = [field.attname for field in Lead._meta.concrete_fields]
    assert [getattr(found, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert found.contact_name == "Анна" and found.payload == {"form": {"wishes": "Турция"}}
    assert not found._state.adding and found._state.db == "default"
    unknown = sender_contacts({"telegram_id": "404"}, verified={"telegram"})
    assert lead_open_of_sender_locked(unknown.lead_terms()) is None
    # a claimed phone finds nothing: no terms at all
    assert sender_contacts({"phone": "+79161234567"}).lead_terms() == []


def test_a_closed_lead_is_not_reopened_by_a_new_message(operator):
    first = ingest("m1")
    services.lead_reject(lead=first.lead, reason="Спам", actor=operator)
    second = ingest("m2")
    assert second.created and second.lead.pk != first.lead.pk


def test_verified_phone_in_any_spelling_finds_the_whatsapp_lead_claimed_ones_only_hint():
    whatsapp = ingest("wa1", channel="whatsapp", sender={"whatsapp_id": "79161234567"})
    # the Telegram user shared their own contact (user_id == from.id): the same person
    telegram = ingest("t1", sender={"telegram_id": "42", "phone": "8 (916) 123-45-67"}, verified={"phone"})
    assert telegram.lead.pk == whatsapp.lead.pk and not telegram.created
    # the same phone typed into the web form or an e-mail: its own lead, the WhatsApp one only hinted at
    web = ingest("w1", channel="web", sender={"name": "Анна", "phone": "+7 916 1234567"})
    email = ingest("e1", channel="email", sender={"phone": "+7 916 1234567", "email": "anna@example.com"})
    for claimed in (web, email):
        assert claimed.created and claimed.lead.possible_duplicate_of_id == whatsapp.lead.pk
    assert Lead.objects.get(pk=whatsapp.lead.pk).contact_email == ""


def test_client_is_linked_by_verified_ids_and_only_suggested_by_claimed_phone_or_email():
    by_phone = make_client(phone="+79161112233")
    by_email = make_client(email="Olga@Example.com")
    by_telegram = make_client(telegram="@olga_travel")
    web = ingest("1", channel="web", sender={"phone": "8 916 111-22-33"}).lead
    assert web.client is None and web.suggested_client == by_phone
    mail = ingest("2", channel="email", sender={"email": " olga@example.COM "}).lead
    assert mail.client is None and mail.suggested_client == by_email
    assert ingest("3", sender={"telegram_id": "olga_travel"}).lead.client == by_telegram
    # A WhatsApp id is a phone number: it finds the client by phone.
    assert ingest("4", channel="whatsapp", sender={"whatsapp_id": "79161112233"}).lead.client == by_phone


def test_telegram_sender_found_by_username_saved_on_the_client():
    client = make_client(telegram="@Travel_Anna")
    lead = ingest("1", sender={"telegram_id": "987654", "telegram_username": "travel_anna"}).lead
    assert lead.client == client and lead.contact_telegram == "987654"


def test_ambiguous_sender_is_not_linked_to_anyone():
    make_client(phone="+79161112233")
    make_client(email="x@example.com")
    lead = ingest("1", channel="web", sender={"phone": "+79161112233", "email": "x@example.com"}).lead
    assert lead.client is None and lead.suggested_client is None


def test_invalid_contacts_from_a_sender_are_kept_but_never_match():
    lead = ingest("1", channel="web", sender={"phone": "12", "email": "not-an-email"}).lead
    assert lead.contact_phone == "12" and lead.phone_index == "" and lead.email_index == ""
    other = ingest("2", channel="web", sender={"phone": "12"}).lead
    assert other.pk != lead.pk


def test_contact_data_and_payload_are_encrypted_at_rest():
    ingest("1", channel="web", sender={"name": "Светлана", "phone": "+79161234567", "email": "sveta@example.com"},
           text="паспорт 4510 123456", payload={"phone": "+79161234567"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM leads_lead")
        lead_row = " ".join(str(value) for value in cursor.fetchone())
        cursor.execute("SELECT * FROM leads_leadmessage")
        message_row = " ".join(str(value) for value in cursor.fetchone())
    for plaintext in ("79161234567", "sveta@example.com", "Светлана"):
        assert plaintext not in lead_row
    for plaintext in ("79161234567", "4510 123456"):
        assert plaintext not in message_row


def test_attachments_go_to_object_storage_with_random_keys():
    result = ingest(
        "1",
        attachments=[
            IncomingAttachment("Иванов паспорт.pdf", "application/pdf", b"%PDF-1.4 test", 13),
            IncomingAttachment("video.mp4", "video/mp4", None, 80_000_000, note="Файл больше 20 МБ, не загружен"),
        ],
    )
    stored, skipped = LeadAttachment.objects.filter(lead=result.lead).order_by("id")
    assert stored.file.name.startswith("leads/") and "Иванов" not in stored.file.name
    assert stored.file.name.endswith(".pdf") and stored.message == result.message
    with default_storage.open(stored.file.name) as handle:
        assert handle.read() == b"%PDF-1.4 test"
    assert not skipped.file and skipped.size == 80_000_000 and "20 МБ" in skipped.note


# Its own transaction, as for every real caller: nested in a caller's transaction lead_ingest takes
# no savepoint, so a failure spoils the caller's transaction (inbox_process rolls it back).
@pytest.mark.django_db(transaction=True)
def test_failure_after_storing_files_leaves_no_lead_and_no_files(monkeypatch):
    saved_keys = []
    real_save = default_storage.save

    def remember(name, content, **kwargs):
        key = real_save(name, content, **kwargs)
        saved_keys.append(key)
        return key

    def broken_bulk_create(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(default_storage, "save", remember)
    monkeypatch.setattr(LeadAttachment.objects, "bulk_create", broken_bulk_create)
    with pytest.raises(RuntimeError):
        ingest("1", attachments=[IncomingAttachment("a.pdf", "application/pdf", b"%PDF", 4)])
    assert not Lead.objects.exists() and not LeadMessage.objects.exists()
    assert saved_keys and not default_storage.exists(saved_keys[0])


def test_unknown_channel_and_missing_id_are_refused():
    with pytest.raises(BusinessError) as error:
        ingest("1", channel="pigeon")
    assert error.value.code == "invalid_channel"
    with pytest.raises(BusinessError) as error:
        ingest("  ")
    assert error.value.code == "external_id_required"


@pytest.mark.django_db(transaction=True)
def test_two_threads_with_the_same_message_make_one_message():
    barrier = threading.Barrier(2)
    results, errors = [], []

    def deliver():
        try:
            barrier.wait()
            results.append(ingest("race-1", text="одновременно"))
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert LeadMessage.objects.count() == 1 and Lead.objects.count() == 1
    assert sorted(result.duplicate for result in results) == [False, True]


@pytest.mark.django_db(transaction=True)
def test_two_threads_with_two_messages_of_one_new_sender_make_one_lead():
    barrier = threading.Barrier(2)
    errors = []

    def deliver(external_id):
        try:
            barrier.wait()
            ingest(external_id, channel="whatsapp", sender={"whatsapp_id": "79160000001"})
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(f"wa-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Lead.objects.count() == 1 and LeadMessage.objects.count() == 2


def test_transitions(operator, supervisor):
    lead = ingest("1").lead
    lead = services.lead_take(lead=lead, actor=operator)
    assert lead.status == LeadStatus.IN_PROGRESS and lead.operator == operator
    with pytest.raises(ConflictError) as error:
        services.lead_take(lead=lead, actor=supervisor)
    assert error.value.code == "invalid_transition"
    with pytest.raises(BusinessError) as error:
        services.lead_reject(lead=lead, reason="  ")
    assert error.value.code == "reason_required"
    lead = services.lead_reject(lead=lead, reason="Не отвечает", actor=operator)
    assert lead.status == LeadStatus.REJECTED and lead.rejection_reason == "Не отвечает" and lead.closed_at
    with pytest.raises(ConflictError):
        services.lead_take(lead=lead, actor=operator)


def test_manual_lead_validates_contacts(operator):
    with pytest.raises(ValidationError) as error:
        services.lead_create_manual(data={"contact_phone": "123"}, actor=operator)
    assert "contact_phone" in error.value.message_dict
    lead = services.lead_create_manual(
        data={"contact_name": "Мария", "contact_phone": "8 916 555-44-33", "text": "Звонила в офис"}, actor=operator
    )
    assert lead.source == "manual" and lead.operator == operator and lead.contact_phone == "+79165554433"
    assert lead.messages.get().channel == "manual"


def test_demo_data_loads_twice_without_duplicates():
    import io

    from apps.leads import demo

    demo.load_demo(io.StringIO())
    counts = (Lead.objects.count(), LeadMessage.objects.count())
    demo.load_demo(io.StringIO())
    assert (Lead.objects.count(), LeadMessage.objects.count()) == counts == (5, 6)
    assert Lead.objects.filter(status=LeadStatus.REJECTED, rejection_reason="Спам").exists()


def test_merging_clients_moves_their_leads():
    from apps.clients.services import client_merge

    target = make_client(phone="+79161112233")
    other = make_client(email="other@example.com")
    lead = ingest("1", channel="whatsapp", sender={"whatsapp_id": "79160000009"}).lead
    services.lead_link_client(lead=lead, client=other)
    hinted = ingest("2", channel="email", sender={"email": "other@example.com"}).lead
    assert hinted.suggested_client == other
    client_merge(target=target, other=other)
    lead.refresh_from_db()
    hinted.refresh_from_db()
    assert lead.client == target and hinted.suggested_client == target
