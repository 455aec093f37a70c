"""CSV import of clients: dry run or real run, in batches, with deduplication by blind index.

Every row ends as one of
- created   — a new client (in a dry run: would be created);
- updated   — matched one existing client and added what it lacked (on_duplicate="update");
- duplicate — matched an existing client or an earlier row of the file (nothing written);
- rejected  — refused, with the reasons (bad phone, bad date, missing name, ...).

Deduplication compares the blind indexes of phones, e-mails, Telegram ids and document numbers with
the database (one query per kind per batch) and with the rows seen earlier in the file. The real
run writes each batch in one transaction with bulk inserts (PostgreSQL COPY of clients, contacts
and documents; encryption and blind indexes computed in Python, see fast.py); the database's
partial unique constraints stay the last word: a batch that collides with a concurrent writer is
rolled back and planned again. Bulk writes bypass
django-auditlog, so the import writes one audit entry of its own.
"""

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice

from django.db import IntegrityError, transaction

from apps.clients import queries
from apps.clients.imports.fast import FastEncryptor
from apps.clients.imports.reader import CsvSource, ImportFileError, open_csv
from apps.clients.imports.rows import PreparedRow, RowContext, RowError, prepare_row
from apps.clients.models import Client, ClientContact, ClientPassport
from apps.core.errors import BusinessError

CREATED, UPDATED, DUPLICATE, REJECTED = "created", "updated", "duplicate", "rejected"
STATUSES = (CREATED, UPDATED, DUPLICATE, REJECTED)
ON_DUPLICATE = ("skip", "update")
DEFAULT_BATCH_SIZE = 2000
FILL_FIELDS = ("middle_name", "last_name_latin", "first_name_latin", "birth_date", "citizenship")


@dataclass(slots=True)
class RowOutcome:
    line: int
    status: str
    client_id: int | None = None
    client_name: str = ""
    matched_on: list[str] = field(default_factory=list)
    duplicate_of: "RowOutcome | None" = None
    errors: list[RowError] = field(default_factory=list)
    matches: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        result = {"line": self.line, "status": self.status, "client_id": self.client_id}
        if self.duplicate_of is not None:
            result["client_id"] = self.duplicate_of.client_id
            result["duplicate_of_line"] = self.duplicate_of.line
        if self.client_name:
            result["client_name"] = self.client_name
        if self.matched_on:
            result["matched_on"] = self.matched_on
        if self.errors:
            result["errors"] = [error.as_dict() for error in self.errors]
        if self.matches:
            result["matches"] = self.matches
        return result


@dataclass
class ImportReport:
    dry_run: bool
    on_duplicate: str
    file_name: str = ""
    encoding: str = ""
    delimiter: str = ""
    unknown_columns: list[str] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        counts = Counter(outcome.status for outcome in self.outcomes)
        return {"rows": len(self.outcomes), **{status: counts.get(status, 0) for status in STATUSES}}

    def as_dict(self, *, rows: bool = True) -> dict:
        result = {
            "dry_run": self.dry_run,
            "on_duplicate": self.on_duplicate,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "unknown_columns": self.unknown_columns,
            "totals": self.totals,
        }
        if rows:
            result["rows"] = [outcome.as_dict() for outcome in self.outcomes]
        return result


# --- Entry point -----------------------------------------------------------------------------------


def import_clients(
    *,
    data: bytes,
    file_name: str = "",
    dry_run: bool = False,
    on_duplicate: str = "skip",
    actor=None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import (or preview, dry_run=True) clients from CSV bytes. Raises ImportFileError for a bad file.
    `progress(rows_done, rows_total)` is called after each batch (the background import's bar)."""
    if on_duplicate not in ON_DUPLICATE:
        raise BusinessError(
            "on_duplicate: допустимы значения skip и update.", code="invalid_on_duplicate",
            fields={"on_duplicate": ["Допустимы значения skip и update."]},
        )
    source = open_csv(data)
    _check_parsable(source)
    report = ImportReport(
        dry_run=dry_run, on_duplicate=on_duplicate, file_name=file_name[:255], encoding=source.encoding,
        delimiter=source.delimiter, unknown_columns=source.unknown_columns,
    )
    operator = actor if getattr(actor, "is_authenticated", False) else None
    importer = _Importer(
        dry_run=dry_run, on_duplicate=on_duplicate, operator=operator,
        several_batches=source.text.count("\n") > batch_size,
    )
    rows_total = max(0, source.text.strip("\r\n").count("\n"))  # lines after the header (quoted newlines aside)
    try:
        for prepared in _prepared_batches(source, batch_size):
            report.outcomes.extend(importer.run_batch(prepared))
            if progress:
                progress(len(report.outcomes), max(rows_total, len(report.outcomes)))
    finally:
        if not dry_run:
            _write_audit_entry(report, data=data, actor=operator)
    return report


def _check_parsable(source: CsvSource) -> None:
    """Read the whole file once so a broken quote halfway refuses the file before anything is written."""
    try:
        for _ in csv.reader(io.StringIO(source.text), delimiter=source.delimiter):
            pass
    except csv.Error as error:
        raise ImportFileError(
            f"Файл не разобран как CSV: {error}.", code="not_csv", fields={"file": ["Проверьте кавычки и разделители."]}
        ) from None


def _prepared_batches(source: CsvSource, batch_size: int) -> Iterator[list[PreparedRow]]:
    """Batches of prepared rows; the next batch is prepared in a helper thread while the current one
    is written (normalising and hashing is pure Python, the writes mostly wait for PostgreSQL)."""
    context = RowContext()

    def prepare(batch):
        return [prepare_row(line, cells, source.columns, context) for line, cells in batch]

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-import") as pool:
        pending = None
        for batch in _batched(source.rows(), batch_size):
            submitted = pool.submit(prepare, batch)
            if pending is not None:
                yield pending.result()
            pending = submitted
        if pending is not None:
            yield pending.result()


def _batched(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


# --- One batch -------------------------------------------------------------------------------------


@dataclass
class _Plan:
    outcomes: list[RowOutcome]
    seen: dict[str, RowOutcome]  # blind indexes this batch claims
    create: list[tuple[RowOutcome, PreparedRow]] = field(default_factory=list)
    update: list[tuple[RowOutcome, PreparedRow]] = field(default_factory=list)


class _Importer:
    def __init__(self, *, dry_run: bool, on_duplicate: str, operator, several_batches: bool = True) -> None:
        self.dry_run = dry_run
        self.on_duplicate = on_duplicate
        self.operator = operator
        self.seen: dict[str, RowOutcome] = {}  # blind index -> the earlier row that holds it
        self.encryptor = FastEncryptor()
        self.owners = _KnownOwners(several_batches=several_batches)

    def run_batch(self, rows: list[PreparedRow]) -> list[RowOutcome]:
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    plan = self._plan(rows)
                    if not self.dry_run:
                        self._write(plan)
                    else:
                        self._preview_updates(plan)
            except IntegrityError:
                # A concurrent writer took a phone / e-mail / document between our check and insert:
                # the batch was rolled back; plan it again against what is committed now.
                if attempt == 2:
                    return [self._conflict(row) for row in rows]
                self.owners.refresh([row for row in rows if row.is_valid])
                continue
            self.seen.update(plan.seen)
            return plan.outcomes
        raise AssertionError("unreachable")

    @staticmethod
    def _conflict(row: PreparedRow) -> RowOutcome:
        error = RowError("", "conflict", "Данные изменились во время импорта; повторите импорт этой строки.")
        return RowOutcome(line=row.line, status=REJECTED, errors=[error])

    # planning ------------------------------------------------------------------------------------

    def _plan(self, rows: list[PreparedRow]) -> _Plan:
        in_db = self.owners.lookup([row for row in rows if row.is_valid])
        plan = _Plan(outcomes=[], seen={})
        for row in rows:
            outcome = self._classify(row, in_db, plan)
            plan.outcomes.append(outcome)
        _attach_names(plan.outcomes)
        return plan

    def _classify(self, row: PreparedRow, in_db: dict[str, set[int]], plan: _Plan) -> RowOutcome:
        if not row.is_valid:
            return RowOutcome(line=row.line, status=REJECTED, errors=row.errors)
        keys = row.identifiers()
        earlier = [(kind, self.seen.get(index) or plan.seen.get(index)) for kind, index in keys]
        earlier = [(kind, outcome) for kind, outcome in earlier if outcome is not None]
        if earlier:
            outcome = RowOutcome(
                line=row.line, status=DUPLICATE, duplicate_of=earlier[0][1],
                matched_on=_kinds(kind for kind, _ in earlier),
            )
        else:
            owners: dict[int, set[str]] = {}
            for kind, index in keys:
                for client_id in in_db.get(index, ()):
                    owners.setdefault(client_id, set()).add(kind)
            outcome = self._by_owners(row, owners, plan)
        if outcome.status != REJECTED:
            for _kind, index in keys:
                plan.seen.setdefault(index, outcome)
        return outcome

    def _by_owners(self, row: PreparedRow, owners: dict[int, set[str]], plan: _Plan) -> RowOutcome:
        if len(owners) > 1:
            matches = [{"id": client_id, "matched_on": _kinds(kinds)} for client_id, kinds in sorted(owners.items())]
            error = RowError(
                "", "ambiguous_match", "Данные строки принадлежат разным клиентам; объедините их или исправьте строку."
            )
            return RowOutcome(line=row.line, status=REJECTED, errors=[error], matches=matches)
        if owners:
            (client_id, kinds), = owners.items()
            outcome = RowOutcome(line=row.line, status=DUPLICATE, client_id=client_id, matched_on=_kinds(kinds))
            if self.on_duplicate == "update":
                plan.update.append((outcome, row))
            return outcome
        outcome = RowOutcome(line=row.line, status=CREATED)
        plan.create.append((outcome, row))
        return outcome

    # writing -------------------------------------------------------------------------------------

    def _write(self, plan: _Plan) -> None:
        if plan.create:
            self._create(plan.create)
        if plan.update:
            self._apply_updates(plan.update, write=True)

    def _preview_updates(self, plan: _Plan) -> None:
        if plan.update:
            self._apply_updates(plan.update, write=False)

    def _create(self, items: list[tuple[RowOutcome, PreparedRow]]) -> None:
        operator_id = self.operator.pk if self.operator is not None else None
        client_rows = [row.client_row(operator_id) for _outcome, row in items]
        ids = self.encryptor.copy_insert(Client, client_rows, return_ids=True)
        contacts, passports = [], []
        for (outcome, row), client_id in zip(items, ids, strict=True):
            outcome.client_id = client_id
            contacts.extend(_contact_rows(client_id, row.contacts, primary_kinds=set()))
            if row.passport is not None:
                passports.append(_passport_row(client_id, row.passport))
        self.encryptor.copy_insert(ClientContact, contacts)
        self.encryptor.copy_insert(ClientPassport, passports)

    def _apply_updates(self, items: list[tuple[RowOutcome, PreparedRow]], *, write: bool) -> None:
        """Fill the matched clients' empty fields and add the contacts / documents they lack."""
        client_ids = {outcome.client_id for outcome, _row in items}
        clients = Client.objects.in_bulk(client_ids)
        primary_kinds: dict[int, set[str]] = {}
        for client_id, kind in ClientContact.objects.filter(
            client_id__in=client_ids, is_archived=False, is_primary=True
        ).values_list("client_id", "kind"):
            primary_kinds.setdefault(client_id, set()).add(kind)
        taken = _existing_owners([row for _outcome, row in items])
        changed_clients, contacts, passports = {}, [], []
        for outcome, row in items:
            client = clients.get(outcome.client_id)
            if client is None:
                continue
            changed = _fill_empty(client, row)
            if changed:
                changed_clients[client.pk] = client
            new_contacts = [c for c in row.contacts if c[2] not in taken]
            kinds = primary_kinds.setdefault(client.pk, set())
            contacts.extend(_contact_rows(client.pk, new_contacts, primary_kinds=kinds))
            if row.passport is not None and row.passport.index not in taken:
                passports.append(_passport_row(client.pk, row.passport))
                changed = True
            for _kind, _value, index in new_contacts:
                taken[index] = {client.pk}
            if row.passport is not None:
                taken[row.passport.index] = {client.pk}
            if changed or new_contacts:
                outcome.status = UPDATED
        if write:
            # One save per updated client (rare next to creates): bulk_update cannot write encrypted
            # fields (it builds CASE expressions), and save() lets django-auditlog record each change.
            for client in changed_clients.values():
                client.save(update_fields=[*FILL_FIELDS, "updated_at"])
            self.encryptor.copy_insert(ClientContact, contacts)
            self.encryptor.copy_insert(ClientPassport, passports)


def _kinds(kinds: Iterable[str]) -> list[str]:
    order = ["passport", "phone", "email", "telegram"]
    return sorted(set(kinds), key=lambda kind: order.index(kind) if kind in order else len(order))


class _KnownOwners:
    """Who holds which blind index now.

    For a file of several batches (and at most SNAPSHOT_LIMIT live indexes) all live indexes are
    read once at the first batch: one sequential read (about 2 s for 600 000 indexes) instead of a
    lookup per batch that costs a table scan too. A one-batch file, a bigger table, and a batch
    after a conflict query their own indexes. Rows of this import are tracked separately
    (_Importer.seen), and the database's unique constraints stay the last word.
    """

    SNAPSHOT_LIMIT = 1_500_000

    def __init__(self, *, several_batches: bool = True) -> None:
        self._snapshot: dict[str, int | set[int]] | None = None
        self._decided = not several_batches  # one batch: its own query is cheaper than reading all

    def lookup(self, rows: list[PreparedRow]) -> dict[str, set[int]]:
        if not self._decided:
            self._decided = True
            if _live_index_count() <= self.SNAPSHOT_LIMIT:
                self._snapshot = _read_all_owners()
        if self._snapshot is None:
            return _existing_owners(rows)
        result: dict[str, set[int]] = {}
        for row in rows:
            for _kind, index in row.identifiers():
                owner = self._snapshot.get(index)
                if owner is not None:
                    result[index] = owner if isinstance(owner, set) else {owner}
        return result

    def refresh(self, rows: list[PreparedRow]) -> None:
        if self._snapshot is None:
            return
        fresh = _existing_owners(rows)
        for row in rows:
            for _kind, index in row.identifiers():
                self._snapshot.pop(index, None)
        for index, owners in fresh.items():
            self._snapshot[index] = owners if len(owners) > 1 else next(iter(owners))


def _live_index_count() -> int:
    return (
        ClientContact.objects.filter(is_archived=False).count()
        + ClientPassport.objects.filter(is_archived=False).count()
    )


def _read_all_owners() -> dict[str, int | set[int]]:
    """blind index -> client id (a set in the rare case of several owners), read in chunks with a
    plain cursor (no model rows, no full result list in memory)."""
    owners: dict[str, int | set[int]] = {}
    for chunk in queries.index_owners_all():
        for index, client_id in chunk:
            known = owners.setdefault(index, client_id)
            if known != client_id:  # an index held twice (a phone and a WhatsApp contact of two clients)
                owners[index] = (known if isinstance(known, set) else {known}) | {client_id}
    return owners


def _existing_owners(rows: list[PreparedRow]) -> dict[str, set[int]]:
    """blind index -> ids of the clients that hold it now (live contacts and documents)."""
    contact_indexes = list({index for row in rows for _kind, _value, index in row.contacts})
    passport_indexes = list({row.passport.index for row in rows if row.passport is not None})
    owners: dict[str, set[int]] = {}
    # Blind indexes are namespaced by kind (phone and WhatsApp share the phone namespace).
    for model, indexes in ((ClientContact, contact_indexes), (ClientPassport, passport_indexes)):
        if indexes:
            for index, client_id in queries.index_owners(model, indexes):
                owners.setdefault(index, set()).add(client_id)
    return owners


def _attach_names(outcomes: list[RowOutcome]) -> None:
    """Names of the existing clients a row matched (one query per batch)."""
    ids = {outcome.client_id for outcome in outcomes if outcome.status == DUPLICATE and outcome.client_id}
    if not ids:
        return
    rows = Client.all_objects.filter(id__in=ids).values_list("id", "last_name", "first_name", "middle_name")
    names = {pk: " ".join(part for part in parts if part) for pk, *parts in rows}
    for outcome in outcomes:
        if outcome.client_id in names and outcome.duplicate_of is None:
            outcome.client_name = names[outcome.client_id]


def _contact_rows(client_id: int, contacts, *, primary_kinds: set[str]) -> list[dict]:
    rows = []
    for kind, value, index in contacts:
        rows.append({
            "client_id": client_id, "kind": kind, "value": value, "blind_index": index,
            "is_primary": kind not in primary_kinds,
        })
        primary_kinds.add(kind)
    return rows


def _passport_row(client_id: int, passport) -> dict:
    return {
        "client_id": client_id, "kind": passport.kind, "series": passport.series, "number": passport.number,
        "number_index": passport.index, "issue_date": passport.issue_date, "expiry_date": passport.expiry_date,
        "issued_by": passport.issued_by, "is_active": passport.is_active,
    }


def _fill_empty(client: Client, row: PreparedRow) -> bool:
    changed = False
    for name in FILL_FIELDS:
        value = row.values.get(name)
        if value and not getattr(client, name):
            setattr(client, name, value)
            changed = True
    return changed


# --- Audit -----------------------------------------------------------------------------------------


def _write_audit_entry(report: ImportReport, *, data: bytes, actor) -> None:
    """One auditlog entry for the whole import: file, counts, created ids; never a row's values."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    totals = report.totals
    created_ids = [o.client_id for o in report.outcomes if o.status == CREATED and o.client_id]
    updated_ids = [o.client_id for o in report.outcomes if o.status == UPDATED and o.client_id]
    summary = ", ".join(f"{status}: {totals[status]}" for status in STATUSES)
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Client),
        object_pk="csv-import",
        object_repr=f"Импорт клиентов из CSV ({totals['rows']} строк)",
        action=LogEntry.Action.CREATE,
        changes={"import": ["", summary]},
        changes_text=f"Импорт клиентов из CSV: {summary}",
        actor=actor,
        additional_data={
            "kind": "clients_csv_import",
            "file_name": report.file_name,
            "file_sha256": hashlib.sha256(data).hexdigest(),
            "file_size": len(data),
            "encoding": report.encoding,
            "on_duplicate": report.on_duplicate,
            "totals": totals,
            "created_client_ids": _ranges(created_ids),
            "updated_client_ids": _ranges(updated_ids),
        },
    )


def _ranges(ids: list[int]) -> list[list[int]]:
    """[1, 2, 3, 7] -> [[1, 3], [7, 7]]: bulk-created ids are mostly consecutive, so this stays small."""
    result: list[list[int]] = []
    for value in sorted(ids):
        if result and value == result[-1][1] + 1:
            result[-1][1] = value
        else:
            result.append([value, value])
    return result
