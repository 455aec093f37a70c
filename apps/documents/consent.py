"""The consent to personal-data processing (152-FZ): its text and the PDF for signing.

Since 1 September 2025 the consent is a separate document (it may not be a clause of a contract).
The text names the operator from the agency's requisites; each distinct text is stored once as a
ConsentText with its SHA-256 (apps.clients), and every consent points at the text it was given to.
"""

from django.template import Context, Engine
from django.template.loader import get_template, render_to_string
from django.utils import timezone

from apps.clients.consents import consent_text_ensure
from apps.clients.models import Client, ConsentText
from apps.documents.rendering import html_to_pdf
from apps.finance.models import AgencyRequisites

TITLE = "Согласие на обработку персональных данных"


def consent_text_body() -> str:
    operator = AgencyRequisites.objects.first()
    source = get_template("documents/personal_data_consent.txt").template.source
    engine = Engine(autoescape=False)  # plain text: stored and hashed as the person reads it
    return engine.from_string(source).render(Context({"operator": operator or _NoOperator()})).strip() + "\n"


class _NoOperator:
    """Before the requisites are filled in the text still renders (and says so)."""

    legal_name = "[реквизиты агентства не заполнены]"
    inn = ogrn = address = "—"


def current_consent_text() -> ConsentText:
    return consent_text_ensure(body=consent_text_body())


def consent_pdf(*, client: Client) -> bytes:
    """The consent of one client for signing on paper: the current text with their name and a signature line."""
    text = current_consent_text()
    paragraphs = [p for p in text.body.split("\n\n") if p.strip()]
    html = render_to_string("documents/personal_data_consent.html", {
        "title": TITLE, "paragraphs": paragraphs[1:], "client": client, "text": text,
        "today": timezone.localdate(),
    })
    return html_to_pdf(html)
