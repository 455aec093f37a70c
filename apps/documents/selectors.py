"""Reads of the documents app; what a user may see is decided here (accountants: invoices and acts)."""

from django.db.models import QuerySet

from apps.core.personal_data import require_personal_data
from apps.documents.models import (
    FINANCIAL_TYPES,
    Document,
    DocumentTemplate,
    DocumentTemplateVersion,
    DocumentType,
)

# Documents that print the customer's personal data (the contract: birth dates, phone, e-mail, and
# whatever passport fields a supervisor's template adds): downloadable only with the right to see it.
PERSONAL_DATA_TYPES = frozenset({DocumentType.CONTRACT})


def require_download_right(user, document: Document) -> None:
    """Raise PersonalDataForbidden (403) when the document shows personal data the user may not see."""
    if document.type in PERSONAL_DATA_TYPES:
        require_personal_data(user, "скачивание договора с паспортными данными")


def download_name(document: Document) -> str:
    """The name a downloaded document is saved under: «Счёт 2026-000123 v2.pdf»."""
    return f"{document.get_type_display()} {document.order.number} v{document.version}.pdf"


def can_see_all_types(user) -> bool:
    return user.has_perm("documents.view_all_document_types")


def documents_visible_to(user) -> QuerySet[Document]:
    """Documents the user may read: every type, or only invoices and acts without the extra permission."""
    queryset = Document.objects.select_related("template_version__template", "generated_by", "order")
    if not can_see_all_types(user):
        queryset = queryset.filter(type__in=FINANCIAL_TYPES)
    return queryset


def order_documents(order_id: int, user) -> QuerySet[Document]:
    """All versions of all documents of an order, newest first."""
    return documents_visible_to(user).filter(order_id=order_id).order_by("type", "-version")


def template_list() -> QuerySet[DocumentTemplate]:
    return DocumentTemplate.objects.prefetch_related("versions__uploaded_by")


def template_versions(template_id: int) -> QuerySet[DocumentTemplateVersion]:
    return DocumentTemplateVersion.objects.filter(template_id=template_id).select_related("uploaded_by", "template")
