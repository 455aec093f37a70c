"""The 1C:Enterprise client-bank exchange file (1CClientBankExchange, format 1.03) for bank payments.

Kontur.Elba and 1C import it as a bank statement of the agency's ruble settlement account:
payments from clients are incoming documents (ДатаПоступило), refunds outgoing (ДатаСписано).
Windows-1251, CRLF line ends, amounts with a dot.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from apps.core.money import ZERO
from apps.finance.models import AgencyRequisites, VatMode
from apps.finance.selectors import agency_requisites, bank_payments_for_1c, payer_display_name

SENDER = "Travel CRM"
RECEIVER = "Бухгалтерия предприятия"
DOCUMENT_KIND = "Платежное поручение"


@dataclass(slots=True)
class Party:
    name: str
    inn: str = ""
    kpp: str = ""
    account: str = ""
    bank_name: str = ""
    bank_city: str = ""
    bik: str = ""
    corr_account: str = ""


@dataclass(slots=True)
class BankDocument:
    number: str
    date: date
    amount: Decimal
    incoming: bool  # True: the client pays the agency; False: the agency refunds the client
    counterparty: Party
    purpose: str


def agency_party(requisites: AgencyRequisites) -> Party:
    return Party(
        name=requisites.short_name or requisites.legal_name, inn=requisites.inn, kpp=requisites.kpp,
        account=requisites.account, bank_name=requisites.bank_name, bank_city=requisites.bank_city,
        bik=requisites.bik, corr_account=requisites.corr_account,
    )


def vat_note(requisites: AgencyRequisites, amount: Decimal) -> str:
    if requisites.vat_mode == VatMode.VAT and requisites.vat_rate:
        vat = (amount * requisites.vat_rate / (100 + requisites.vat_rate)).quantize(Decimal("0.01"))
        return f"В т.ч. НДС ({requisites.vat_rate.normalize()}%) {vat:.2f} руб."
    return "НДС не облагается"


def _clean(value) -> str:
    """A value on one line: a line break inside a value would start a new key."""
    text = str(value) if value is not None else ""
    if "\n" in text or "\r" in text:
        return " ".join(text.split())
    return text


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _party_block(prefix: str, party: Party) -> str:
    """The ten lines of one side of a document (one f-string: this runs 25 000 times a month)."""
    name, bank = _clean(party.name), _clean(party.bank_name)
    p = prefix
    return (
        f"{p}Счет={party.account}\r\n{p}={name}\r\n{p}ИНН={party.inn}\r\n{p}КПП={party.kpp}\r\n"
        f"{p}1={name}\r\n{p}РасчСчет={party.account}\r\n{p}Банк1={bank}\r\n"
        f"{p}Банк2={_clean(party.bank_city)}\r\n{p}БИК={party.bik}\r\n{p}Корсчет={party.corr_account}"
    )


def _day(value: date) -> str:
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


class _DocumentWriter:
    """Writes one СекцияДокумент; the agency's half of every document is formatted once."""

    def __init__(self, agency: Party):
        self.agency_as_payer = _party_block("Плательщик", agency)
        self.agency_as_receiver = _party_block("Получатель", agency)

    def write(self, doc: BankDocument) -> str:
        day = _day(doc.date)
        if doc.incoming:
            payer, receiver = _party_block("Плательщик", doc.counterparty), self.agency_as_receiver
            charged, received = "", day
        else:
            payer, receiver = self.agency_as_payer, _party_block("Получатель", doc.counterparty)
            charged, received = day, ""
        return (
            f"СекцияДокумент={DOCUMENT_KIND}\r\nНомер={_clean(doc.number)}\r\nДата={day}\r\n"
            f"Сумма={_amount(doc.amount)}\r\n{payer}\r\nДатаСписано={charged}\r\n{receiver}\r\n"
            f"ДатаПоступило={received}\r\nВидПлатежа=\r\nВидОплаты=01\r\nОчередность=5\r\n"
            f"НазначениеПлатежа={_clean(doc.purpose)}\r\nКонецДокумента"
        )


def build_statement(
    *, requisites: AgencyRequisites, documents: Iterable[BankDocument], date_from: date, date_to: date,
    created_at: datetime,
) -> bytes:
    """The whole file, encoded Windows-1251 with CRLF line ends."""
    agency = agency_party(requisites)
    writer = _DocumentWriter(agency)
    body: list[str] = []
    incoming = outgoing = ZERO
    for doc in documents:
        if doc.incoming:
            incoming += doc.amount
        else:
            outgoing += doc.amount
        body.append(writer.write(doc))
    header = [
        "1CClientBankExchange",
        *_format([
            ("ВерсияФормата", "1.03"),
            ("Кодировка", "Windows"),
            ("Отправитель", SENDER),
            ("Получатель", RECEIVER),
            ("ДатаСоздания", created_at.strftime("%d.%m.%Y")),
            ("ВремяСоздания", created_at.strftime("%H:%M:%S")),
            ("ДатаНачала", date_from.strftime("%d.%m.%Y")),
            ("ДатаКонца", date_to.strftime("%d.%m.%Y")),
            ("РасчСчет", agency.account),
            ("Документ", DOCUMENT_KIND),
        ]),
        "СекцияРасчСчет",
        *_format([
            ("ДатаНачала", date_from.strftime("%d.%m.%Y")),
            ("ДатаКонца", date_to.strftime("%d.%m.%Y")),
            ("РасчСчет", agency.account),
            ("НачальныйОстаток", _amount(ZERO)),
            ("ВсегоПоступило", _amount(incoming)),
            ("ВсегоСписано", _amount(outgoing)),
            ("КонечныйОстаток", _amount(incoming - outgoing)),
        ]),
        "КонецРасчСчет",
    ]
    text = "\r\n".join([*header, *body, "КонецФайла"]) + "\r\n"
    return text.encode("cp1251", errors="replace")


def _format(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{key}={_clean(value)}" for key, value in pairs]


def row_to_document(row: dict, requisites: AgencyRequisites) -> BankDocument:
    """A row of selectors.one_c_rows as a bank document."""
    incoming = row["type"] == "payment"
    order_date = row["order_date"]
    verb = "Оплата" if incoming else "Возврат оплаты"
    purpose = (
        f"{verb} по заказу № {row['order_number']} от {_day(order_date)} за туристские услуги. "
        f"{vat_note(requisites, row['amount'])}"
    )
    counterparty = Party(
        name=payer_display_name(row), inn=row["payer_inn"], account=row["payer_account"],
        bank_name=row["payer_bank_name"], bik=row["payer_bik"], corr_account=row["payer_corr_account"],
    )
    return BankDocument(number=str(row["id"]), date=row["date"], amount=row["amount"], incoming=incoming,
                        counterparty=counterparty, purpose=purpose)


def statement_for_period(*, date_from: date, date_to: date, now: datetime | None = None) -> bytes:
    """The 1C file of the period's ruble bank payments: one query for the payments, one for the requisites."""
    requisites = agency_requisites()
    rows = bank_payments_for_1c(date_from, date_to).iterator(chunk_size=5000)
    documents = (row_to_document(row, requisites) for row in rows)
    return build_statement(requisites=requisites, documents=documents, date_from=date_from, date_to=date_to,
                           created_at=timezone.localtime(now or timezone.now()))
