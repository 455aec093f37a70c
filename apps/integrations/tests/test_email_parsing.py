"""E-mail parsing with the modern email.policy.default, without IMAP or a database."""

from email.message import EmailMessage

from apps.integrations.email.parsing import parse


def _letter(text: str = "Хотим в Рим") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Мария <maria@example.ru>"
    message["Subject"] = "Тур"
    message["Message-ID"] = "<m-1@example.ru>"
    message["Date"] = "Mon, 01 Jun 2026 10:00:00 +0300"
    message.set_content(text)
    return message


def test_plain_with_html_alternative_takes_the_plain_text_and_the_date():
    message = _letter()
    message.add_alternative("<p>Другой <b>HTML</b></p>", subtype="html")
    mail = parse(message.as_bytes())
    assert mail.text == "Хотим в Рим"
    assert mail.files == []
    assert mail.date.isoformat() == "2026-06-01T10:00:00+03:00"
    assert (mail.sender_name, mail.sender_email, mail.subject) == ("Мария", "maria@example.ru", "Тур")


def test_rfc2231_file_name_and_inline_image_of_html_are_files():
    message = _letter()
    message.add_alternative("<p>Письмо с <img src='cid:logo'></p>", subtype="html")
    message.get_payload()[1].add_related(b"\x89PNG logo", maintype="image", subtype="png", cid="<logo>")
    message.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="ваучер отеля.pdf")
    mail = parse(message.as_bytes())
    assert mail.text == "Хотим в Рим"
    assert [(f.content_type, f.content) for f in mail.files] == [
        ("image/png", b"\x89PNG logo"),
        ("application/pdf", b"%PDF"),
    ]
    assert mail.files[1].name == "ваучер отеля.pdf"


def test_forwarded_letter_keeps_its_text_and_files():
    inner = _letter("Пересылаю: нужен отель")
    inner.add_attachment(b"passport", maintype="application", subtype="octet-stream", filename="passport.jpg")
    outer = _letter("Смотрите ниже")
    outer.add_attachment(inner)
    mail = parse(outer.as_bytes())
    assert mail.text == "Смотрите ниже\n\nПересылаю: нужен отель"
    assert [(f.name, f.content) for f in mail.files] == [("passport.jpg", b"passport")]


def test_second_inline_text_part_is_part_of_the_text():
    message = _letter("Первая часть")
    message.make_mixed()
    extra = EmailMessage()
    extra.set_content("Вторая часть")
    message.attach(extra)
    assert parse(message.as_bytes()).text == "Первая часть\n\nВторая часть"


def test_raw_8bit_cp1251_headers_are_guessed_not_replaced():
    raw = "From: Пётр <p@example.ru>\r\nSubject: Заявка на визу\r\n\r\nтекст\r\n".encode("cp1251")
    mail = parse(raw)
    assert (mail.subject, mail.sender_name, mail.sender_email) == ("Заявка на визу", "Пётр", "p@example.ru")
    assert mail.text == "текст"


def test_a_message_that_is_one_file_is_a_file():
    raw = (
        b"From: a@example.ru\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n"
    )
    mail = parse(raw)
    assert mail.text == ""
    assert [(f.name, f.content_type, f.content) for f in mail.files] == [
        ("attachment_1.pdf", "application/pdf", b"%PDF")
    ]


def test_garbage_and_bad_date_do_not_raise():
    assert parse(b"").text == ""
    assert parse(b"\x00\xff garbage").sender_email == ""
    assert parse(b"From: a@example.ru\r\nDate: not a date\r\n\r\nx").date is None
