"""E-mail over IMAP (STARTTLS) against a real IMAP server (pymap) started by the tests."""

import base64
import io
import uuid
from email.message import EmailMessage

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from apps.integrations import services
from apps.integrations.models import InboxItem, InboxStatus, IntegrationSettings
from apps.integrations.testing.imap_server import PASSWORD, USER, ImapServer
from apps.integrations.tests.conftest import ADMIN_PASSWORD
from apps.leads.models import Lead, LeadAttachment

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", params=["starttls", "ssl"])
def imap_server(request):
    server = ImapServer(security=request.param).start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(imap_server, supervisor, settings) -> IntegrationSettings:
    settings.IMAP_CA_FILE = str(imap_server.cert)
    folder = f"Leads{uuid.uuid4().hex[:8]}"
    imap_server.create_folder(folder)
    integration = services.integration_add(
        actor=supervisor,
        admin_password=ADMIN_PASSWORD,
        type="email",
        purpose="sales",
        data={
            "imap_host": "127.0.0.1",
            "imap_port": imap_server.port,
            "imap_security": imap_server.security,
            "imap_user": USER,
            "imap_password": PASSWORD,
            "imap_folder": folder,
        },
    )
    integration.folder = folder
    return services.integration_activate(actor=supervisor, integration=integration)


def _plain_with_attachment() -> bytes:
    message = EmailMessage()
    message["From"] = "Мария Иванова <Maria@Example.ru>"
    message["To"] = "tours@agency.test"
    message["Subject"] = "Тур в Италию"
    message["Message-ID"] = "<plain-1@example.ru>"
    message.set_content("Добрый день! Хотим в Рим в июне, 2 взрослых.")
    message.add_attachment(b"%PDF-1.4 passport", maintype="application", subtype="pdf", filename="паспорт.pdf")
    return message.as_bytes()


HTML_ONLY = (
    "From: client@example.com\r\nSubject: =?utf-8?b?0J/RgNC40LLQtdGC?=\r\nMessage-ID: <html-1@example.com>\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    "<html><head><style>p{color:red}</style></head><body><p>Нужен <b>отель</b> в Сочи</p>"
    "<div>на 5&nbsp;ночей</div><script>alert(1)</script></body></html>\r\n"
).encode()

CP1251 = (
    b"From: =?koi8-r?b?" + base64.b64encode("Пётр".encode("koi8-r")) + b"?= <petr@example.org>\r\n"
    b"Subject: =?koi8-r?b?" + base64.b64encode("Заявка на визу".encode("koi8-r")) + b"?=\r\n"
    b"Message-ID: <cp1251-1@example.org>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    + "Нужна шенгенская виза для двоих".encode("cp1251")
    + b"\r\n"
)

UNKNOWN_CHARSET = (
    b"From: koi@example.org\r\nSubject: =?x-unknown-charset?q?=F0=D2=C9=D7=C5=D4?=\r\n"
    b"Message-ID: <unknown-1@example.org>\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\n"
    + "Хочу в Казань".encode("koi8-r")
    + b"\r\n"
)

MALFORMED = (
    b"From: broken@example.net\r\nSubject: broken mime\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed\r\n\r\n"  # no boundary at all
    b"--xyz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "Текст без границ".encode() + b"\r\n--xyz--\r\n"
)


def test_poll_mailbox_takes_every_message_once(imap_server, mailbox):
    for raw in (_plain_with_attachment(), HTML_ONLY, CP1251, UNKNOWN_CHARSET, MALFORMED):
        imap_server.append(raw, folder=mailbox.folder)

    out = io.StringIO()
    call_command("poll_mailbox", "--integration", str(mailbox.pk), stdout=out)
    assert "fetched=5" in out.getvalue()
    assert InboxItem.objects.filter(status=InboxStatus.PROCESSED).count() == 5
    leads = {lead.contact_email: lead for lead in Lead.objects.all()}
    assert set(leads) == {
        "maria@example.ru",
        "client@example.com",
        "petr@example.org",
        "koi@example.org",
        "broken@example.net",
    }

    maria = leads["maria@example.ru"]
    assert maria.source == "email"
    assert maria.contact_name == "Мария Иванова"
    assert maria.messages.get().text == "Тема: Тур в Италию\n\nДобрый день! Хотим в Рим в июне, 2 взрослых."
    attachment = LeadAttachment.objects.get(lead=maria)
    assert attachment.name == "паспорт.pdf"
    with default_storage.open(attachment.file.name) as stored:
        assert stored.read() == b"%PDF-1.4 passport"

    html_text = leads["client@example.com"].messages.get().text
    assert html_text.startswith("Тема: Привет\n\nНужен отель в Сочи")
    assert html_text.endswith("на 5 ночей")
    assert "alert" not in html_text and "color" not in html_text
    assert leads["petr@example.org"].messages.get().text == "Тема: Заявка на визу\n\nНужна шенгенская виза для двоих"
    assert leads["petr@example.org"].contact_name == "Пётр"
    assert "Хочу в Казань" in leads["koi@example.org"].messages.get().text
    assert "Текст без границ" in leads["broken@example.net"].messages.get().text

    assert imap_server.search(mailbox.folder, "UNSEEN") == []  # each message marked as taken

    out = io.StringIO()
    call_command("poll_mailbox", "--integration", str(mailbox.pk), stdout=out)
    assert "fetched=0" in out.getvalue()
    assert Lead.objects.count() == 5


def test_same_message_id_delivered_again_is_not_a_second_lead(imap_server, mailbox):
    imap_server.append(_plain_with_attachment(), folder=mailbox.folder)
    call_command("poll_mailbox", "--integration", str(mailbox.pk), stdout=io.StringIO())
    imap_server.append(_plain_with_attachment(), folder=mailbox.folder)  # a re-delivery, new UID
    out = io.StringIO()
    call_command("poll_mailbox", "--integration", str(mailbox.pk), stdout=out)
    assert "duplicates=1" in out.getvalue()
    assert Lead.objects.count() == 1


def test_wrong_password_is_recorded_as_last_error(imap_server, mailbox):
    IntegrationSettings.objects.filter(pk=mailbox.pk).update(imap_password="")
    mailbox.refresh_from_db()
    mailbox.imap_password = "wrong-password"
    mailbox.save()
    assert services.integration_check_connection(integration=mailbox) is False
    mailbox.refresh_from_db()
    assert "IMAP" in mailbox.last_error
    assert "wrong-password" not in mailbox.last_error


def test_check_connection_updates_last_connected_at(imap_server, mailbox):
    assert services.integration_check_connection(integration=mailbox) is True
    mailbox.refresh_from_db()
    assert mailbox.last_connected_at is not None
    assert mailbox.last_error == ""


def test_cyrillic_folder_name_is_polled(imap_server, mailbox):
    """Folder names go to the server in IMAP's modified UTF-7 (imaplib alone sends ASCII and fails)."""
    from imap_tools.imap_utf7 import utf7_encode

    from apps.integrations.email.handlers import mailbox_poll

    folder = f"Заявки_{uuid.uuid4().hex[:6]}"
    wire_name = utf7_encode(folder).decode("ascii")
    imap_server.create_folder(wire_name)
    imap_server.append(_plain_with_attachment(), folder=wire_name)
    IntegrationSettings.objects.filter(pk=mailbox.pk).update(imap_folder=folder)
    mailbox.refresh_from_db()
    assert mailbox_poll(integration=mailbox)["fetched"] == 1
    assert Lead.objects.get().contact_email == "maria@example.ru"


def test_missing_folder_is_a_clear_error(imap_server, mailbox):
    from apps.integrations.email.handlers import mailbox_poll
    from apps.integrations.errors import ChannelError

    IntegrationSettings.objects.filter(pk=mailbox.pk).update(imap_folder="Нет_такой_папки")
    mailbox.refresh_from_db()
    with pytest.raises(ChannelError, match="не найдена"):
        mailbox_poll(integration=mailbox)
    assert services.integration_check_connection(integration=mailbox) is False
    mailbox.refresh_from_db()
    assert "Нет_такой_папки" in mailbox.last_error and "не найдена" in mailbox.last_error


def test_seen_flag_is_set_only_on_taken_messages(imap_server, mailbox):
    """BODY.PEEK fetches leave a message unseen until it is stored; the \\Seen flag comes after."""
    from apps.integrations.email.handlers import mailbox_poll

    imap_server.append(CP1251, folder=mailbox.folder)
    imap_server.append(HTML_ONLY, folder=mailbox.folder)
    assert len(imap_server.search(mailbox.folder, "UNSEEN")) == 2
    assert mailbox_poll(integration=mailbox, limit=1)["fetched"] == 1
    assert len(imap_server.search(mailbox.folder, "UNSEEN")) == 1
    mailbox.refresh_from_db()
    assert mailbox_poll(integration=mailbox)["fetched"] == 1
    assert imap_server.search(mailbox.folder, "UNSEEN") == []
