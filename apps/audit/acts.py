"""The PDF «Акт об уничтожении персональных данных» of a destruction record (RKN order No. 179)."""

from django.template.loader import render_to_string
from django.utils import timezone

from apps.audit.models import DestructionRecord
from apps.documents.rendering import html_to_pdf
from apps.finance.models import AgencyRequisites

MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
          "ноября", "декабря")
DETAIL_LABELS = {
    "client_card": "карточка клиента", "contacts": "контакты", "passports": "документы, удостоверяющие личность",
    "files": "файлы (сканы)", "lead_contacts": "заявки (контактные данные)", "lead_messages": "сообщения",
    "lead_attachments": "вложения", "document_files": "файлы документов (PDF)",
    "inbox_payloads": "входящие сообщения", "consents": "согласия",
}


def destruction_act_pdf(record: DestructionRecord) -> bytes:
    performed_at = timezone.localtime(record.performed_at)
    html = render_to_string("audit/destruction_act.html", {
        "record": record,
        "operator": AgencyRequisites.objects.first(),  # may be empty: the act still prints, with dashes
        "performed_at": performed_at,
        "month": MONTHS[performed_at.month - 1],
        "details": [(DETAIL_LABELS.get(key, key), count) for key, count in (record.details or {}).items()],
    })
    return html_to_pdf(html)
