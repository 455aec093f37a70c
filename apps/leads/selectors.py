"""Reads of leads: one queryset per screen with its joins done once."""

from django.db.models import Prefetch, QuerySet

from apps.leads.models import Lead, LeadAttachment, LeadMessage


def lead_list() -> QuerySet[Lead]:
    return Lead.objects.select_related("client", "operator")


def lead_detail() -> QuerySet[Lead]:
    return lead_list().prefetch_related(
        Prefetch("messages", queryset=LeadMessage.objects.order_by("received_at", "id")),
        Prefetch("attachments", queryset=LeadAttachment.objects.order_by("id")),
    )
