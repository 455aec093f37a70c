"""The clients admin's export of many clients as a job (apps.jobs.exports): the same CSV for Russian
Excel as the export action streams (ClientResource, masked unless the person may see personal data),
built by the worker with rows done / total, left in object storage with a link on the progress page."""

from __future__ import annotations

from django.utils import timezone

from apps.clients.exports import ClientResource
from apps.clients.models import Client
from apps.core.csv_export import Column, csv_lines
from apps.jobs.exports import Export, counted

BUILDER = "apps.clients.export_jobs.clients_export"
BATCH = 2000


def clients_export(*, params: dict, progress) -> Export:
    """params: ids (the selected clients), show_pd (the person's right to see personal data)."""
    resource = ClientResource(show_pd=bool(params.get("show_pd")))
    fields = resource.get_export_fields()
    columns = [Column(field.column_name, lambda client, f=field: resource.export_field(f, client)) for field in fields]
    ids = [int(pk) for pk in params["ids"]]
    rows = counted(_clients(ids), progress, len(ids))
    stamp = timezone.localdate().strftime("%Y-%m-%d")
    return Export(f"clients-{stamp}.csv", "text/csv", (line.encode("utf-8") for line in csv_lines(columns, rows)),
                  rows=len(ids))


def _clients(ids: list[int]):
    """The clients in the order given, a batch at a time with their contacts (two queries per batch)."""
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        found = Client.objects.filter(pk__in=chunk).prefetch_related("contacts").in_bulk()
        yield from (found[pk] for pk in chunk if pk in found)
