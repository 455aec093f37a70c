"""The 1C:Enterprise client-bank exchange file (1CClientBankExchange, format 1.03) for bank payments.

Kontur.Elba and 1C import it as a bank statement of the agency's ruble settlement account:
payments from clients and refunds from suppliers are incoming documents (ДатаПоступило), refunds to
clients and payments to suppliers outgoing (ДатаСписано). `Номер` and `Дата` are the bank payment
order's (entered with the payment; a bank transfer without them is refused, listed by order), the
money's day is the payment's date. `НачальныйОстаток` is the balance of the movements recorded here
before the period. Windows-1251, CRLF line ends, amounts with a dot.
"""

import functools
import heapq
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from apps.core.errors import BusinessError
from apps.core.money import ZERO
from apps.finance.models import AgencyRequisites, VatMode
from apps.finance.selectors import (
    agency_requisites,
    bank_balance_before,
    bank_payments_for_1c,
    bank_supplier_payments_for_1c,
    payer_display_name,
)

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
    date: date  # the payment order's date
    amount: Decimal
    incoming: bool  # True: money comes to the agency's account; False: it leaves it
    counterparty: Party
    purpose: str
    moved_on: date | None = None  # the day the money moved (ДатаПоступило / ДатаСписано); default `date`


def agency_party(requisites: AgencyRequisites) -> Party:
    return Party(
        name=requisites.short_name or requisites.legal_name, inn=requisites.inn, kpp=requisites.kpp,
        account=requisites.account, bank_name=requisites.bank_name, bank_city=requisites.bank_city,
        bik=requisites.bik, corr_account=requisites.corr_account,
    )


def vat_note(requisites: AgencyRequisites, amount: Decimal) -> str:
    return vat_noter(requisites)(amount)


_CENT = Decimal("0.01")


def vat_noter(requisites: AgencyRequisites) -> Callable[[Decimal], str]:
    """vat_note for one requisites row, with the rate's parts worked out once (it runs per document)."""
    if requisites.vat_mode == VatMode.VAT and requisites.vat_rate:
        rate, divisor = requisites.vat_rate, 100 + requisites.vat_rate
        label = f"В т.ч. НДС ({rate.normalize()}%) "
        return lambda amount: f"{label}{(amount * rate / divisor).quantize(_CENT):.2f} руб."
    return lambda amount: "НДС не облагается"


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


@functools.lru_cache(maxsize=4096)
def _day(value: date) -> str:
    # Cached: a month's 250 000 documents carry a few hundred distinct dates, three per document.
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


class _DocumentWriter:
    """Writes one СекцияДокумент; the agency's half of every document is formatted once, and each
    counterparty's half once per export (a payer usually pays several times a month)."""

    CACHE_LIMIT = 20_000  # counterparty blocks kept (plaintext, for this export only)

    def __init__(self, agency: Party):
        self.agency_as_payer = _party_block("Плательщик", agency)
        self.agency_as_receiver = _party_block("Получатель", agency)
        self._blocks: dict[tuple, str] = {}

    def _counterparty_block(self, prefix: str, party: Party) -> str:
        key = (prefix, party.name, party.inn, party.kpp, party.account, party.bank_name, party.bank_city,
               party.bik, party.corr_account)
        block = self._blocks.get(key)
        if block is None:
            if len(self._blocks) >= self.CACHE_LIMIT:
                self._blocks.clear()
            block = self._blocks[key] = _party_block(prefix, party)
        return block

    def write(self, doc: BankDocument) -> str:
        day = _day(doc.moved_on or doc.date)
        if doc.incoming:
            payer, receiver = self._counterparty_block("Плательщик", doc.counterparty), self.agency_as_receiver
            charged, received = "", day
        else:
            payer, receiver = self.agency_as_payer, self._counterparty_block("Получатель", doc.counterparty)
            charged, received = day, ""
        return (
            f"СекцияДокумент={DOCUMENT_KIND}\r\nНомер={_clean(doc.number)}\r\nДата={_day(doc.date)}\r\n"
            f"Сумма={_amount(doc.amount)}\r\n{payer}\r\nДатаСписано={charged}\r\n{receiver}\r\n"
            f"ДатаПоступило={received}\r\nВидПлатежа=\r\nВидОплаты=01\r\nОчередность=5\r\n"
            f"НазначениеПлатежа={_clean(doc.purpose)}\r\nКонецДокумента"
        )


def build_statement(
    *, requisites: AgencyRequisites, documents: Iterable[BankDocument], date_from: date, date_to: date,
    created_at: datetime, opening: Decimal = ZERO,
) -> bytes:
    """The whole file in memory, encoded Windows-1251 with CRLF line ends (the API streams it instead,
    with write_statement)."""
    return b"".join(write_statement(requisites=requisites, documents=documents, date_from=date_from,
                                    date_to=date_to, created_at=created_at, opening=opening))


def write_statement(
    *, requisites: AgencyRequisites, documents: Iterable[BankDocument], date_from: date, date_to: date,
    created_at: datetime, opening: Decimal = ZERO, spool_bytes: int = 8 * 1024 * 1024,
    check: Callable[[], None] | None = None,
) -> Iterator[bytes]:
    """The file as chunks of Windows-1251 bytes, in constant memory whatever the number of documents.

    The totals (ВсегоПоступило, ВсегоСписано, КонечныйОстаток) stand in the header, before the
    documents: so the documents are written once, as they are read, to a temporary file that spills to
    disk past `spool_bytes` while the totals are summed; then the header, and the documents read back.
    All documents are read, and `check` (which may raise) is called, before anything is returned.
    """
    agency = agency_party(requisites)
    writer = _DocumentWriter(agency)
    spool = tempfile.SpooledTemporaryFile(max_size=spool_bytes)  # noqa: SIM115 - closed by _chunks
    incoming = outgoing = ZERO
    batch: list[str] = []
    try:
        for doc in documents:
            if doc.incoming:
                incoming += doc.amount
            else:
                outgoing += doc.amount
            batch.append(writer.write(doc))
            if len(batch) == _ENCODE_BATCH:
                _write_batch(spool, batch)
        batch.append("КонецФайла")
        _write_batch(spool, batch)
        if check is not None:
            check()
    except BaseException:
        spool.close()
        raise
    header = _header(agency, date_from, date_to, created_at, opening, incoming, outgoing)
    spool.seek(0)
    return _chunks(header, spool)


_ENCODE_BATCH = 500  # documents encoded and written at once (~0.5 MB): fewer calls than one per document


def _write_batch(spool, batch: list[str]) -> None:
    batch.append("")  # every document, and the closing line, ends with CRLF
    spool.write("\r\n".join(batch).encode("cp1251", errors="replace"))
    batch.clear()


def _chunks(header: bytes, spool) -> Iterator[bytes]:
    try:
        yield header
        while chunk := spool.read(256 * 1024):
            yield chunk
    finally:
        spool.close()


def _header(agency: Party, date_from: date, date_to: date, created_at: datetime, opening: Decimal,
            incoming: Decimal, outgoing: Decimal) -> bytes:
    lines = [
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
            ("НачальныйОстаток", _amount(opening)),
            ("ВсегоПоступило", _amount(incoming)),
            ("ВсегоСписано", _amount(outgoing)),
            ("КонечныйОстаток", _amount(opening + incoming - outgoing)),
        ]),
        "КонецРасчСчет",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("cp1251", errors="replace")


def _format(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{key}={_clean(value)}" for key, value in pairs]


class MissingBankDocuments:
    """Collects the bank transfers without a payment order number/date while the file is written."""

    LIMIT = 10

    def __init__(self):
        self.items: list[str] = []
        self.count = 0

    def add(self, row: dict, who: str) -> None:
        self.count += 1
        if len(self.items) < self.LIMIT:
            self.items.append(f"{who} по заказу {row['order_number']} от {_day(row['date'])} на {row['amount']:.2f} ₽")

    def raise_if_any(self) -> None:
        if self.count:
            more = f" и ещё {self.count - self.LIMIT}" if self.count > self.LIMIT else ""
            raise BusinessError(
                "В файле для 1С «Номер» — номер платёжного поручения. Укажите номер и дату платёжки у банковских "
                f"платежей: {'; '.join(self.items)}{more}.",
                code="bank_document_missing",
                count=self.count,
            )


def row_to_document(row: dict, requisites: AgencyRequisites, missing: MissingBankDocuments | None = None,
                    note: Callable[[Decimal], str] | None = None):
    """A row of selectors.one_c_rows (a client's payment or refund) as a bank document; `note`:
    vat_noter(requisites), made once by a caller converting many rows."""
    incoming = row["type"] == "payment"
    verb = "Оплата" if incoming else "Возврат оплаты"
    purpose = (
        f"{verb} по заказу № {row['order_number']} от {_day(row['order_date'])} за туристские услуги. "
        f"{(note or vat_noter(requisites))(row['amount'])}"
    )
    counterparty = Party(
        name=payer_display_name(row), inn=row["payer_inn"], kpp=row["payer_kpp"], account=row["payer_account"],
        bank_name=row["payer_bank_name"], bik=row["payer_bik"], corr_account=row["payer_corr_account"],
    )
    if not row["bank_doc_number"] and missing is not None:
        missing.add(row, "оплата клиента" if incoming else "возврат клиенту")
    return BankDocument(number=row["bank_doc_number"], date=row["bank_doc_date"] or row["date"],
                        amount=row["amount"], incoming=incoming, counterparty=counterparty, purpose=purpose,
                        moved_on=row["date"])


def supplier_row_to_document(row: dict, missing: MissingBankDocuments | None = None) -> BankDocument:
    """A row of selectors.supplier_one_c_rows: our payment to a supplier (outgoing) or its refund (incoming)."""
    incoming = row["type"] == "refund"
    verb = "Возврат от поставщика" if incoming else "Оплата"
    purpose = (
        f"{verb} по заказу № {row['order_number']} от {_day(row['order_date'])} за туристские услуги. "
        "НДС не облагается"
    )
    counterparty = Party(
        name=row["counterparty_name"] or row["supplier_legal_name"] or row["supplier_name"],
        inn=row["counterparty_inn"], kpp=row["counterparty_kpp"], account=row["counterparty_account"],
        bank_name=row["counterparty_bank_name"], bik=row["counterparty_bik"],
        corr_account=row["counterparty_corr_account"],
    )
    if not row["bank_doc_number"] and missing is not None:
        missing.add(row, "возврат от поставщика" if incoming else "оплата поставщику")
    return BankDocument(number=row["bank_doc_number"], date=row["bank_doc_date"] or row["date"],
                        amount=row["amount"], incoming=incoming, counterparty=counterparty, purpose=purpose,
                        moved_on=row["date"])


def period_documents(date_from: date, date_to: date, requisites: AgencyRequisites,
                     missing: MissingBankDocuments) -> Iterator[BankDocument]:
    """Clients' and suppliers' ruble bank payments of the period, by day (two queries, merged)."""
    note = vat_noter(requisites)
    clients = ((row["date"], 0, row["id"], row_to_document(row, requisites, missing, note))
               for row in bank_payments_for_1c(date_from, date_to).iterator(chunk_size=5000))
    suppliers = ((row["date"], 1, row["id"], supplier_row_to_document(row, missing))
                 for row in bank_supplier_payments_for_1c(date_from, date_to).iterator(chunk_size=5000))
    for *_key, document in heapq.merge(clients, suppliers, key=lambda item: item[:3]):
        yield document


def statement_for_period(*, date_from: date, date_to: date, now: datetime | None = None) -> Iterator[bytes]:
    """The 1C file of the period's ruble bank payments (clients' and suppliers'), as chunks of bytes in
    constant memory: the requisites, the opening balance and two row queries. Refused, naming them,
    when transfers lack their bank document — before the first chunk, so a refusal is a clean 400."""
    requisites = agency_requisites()
    opening = bank_balance_before(date_from)
    missing = MissingBankDocuments()
    return write_statement(
        requisites=requisites, documents=period_documents(date_from, date_to, requisites, missing),
        date_from=date_from, date_to=date_to, created_at=timezone.localtime(now or timezone.now()), opening=opening,
        check=missing.raise_if_any,
    )
