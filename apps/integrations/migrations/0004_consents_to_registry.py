"""Web-form consents move from integrations.Consent to the clients' consent registry; the old model goes.

Each old row becomes a clients.Consent of channel «web»: given at, IP address, the lead, the client of
the lead (when it has one) and the sender named by the phone (else the e-mail) of the submitted form
(from the inbox item's payload, else from the lead). The old form showed a short text of its own,
named only by a version; it is kept as ConsentText «web-<version>» with that exact text, so each
consent still points at what the person read. Its purpose was the contract (choosing and arranging
the trip and contacting them about the request) — nothing was said about transfers or marketing.

A row that names nobody any more (its payload purged, its lead deleted, no client) cannot be stored in
the registry (a consent must name its subject) and is dropped: there is no personal data left it
could be the basis for. The reverse recreates the empty old table only.
"""

import hashlib

from django.core.exceptions import ValidationError
from django.db import migrations

OLD_WEB_FORM_TEXT = """Согласие на обработку персональных данных
Редакция {version}

Отправляя заявку, я даю согласие турагентству на обработку моих персональных данных (имя, телефон, \
адрес электронной почты, сведения о желаемой поездке) в соответствии с Федеральным законом № 152-ФЗ \
«О персональных данных» в целях подбора и оформления туристических услуг и связи со мной по этой заявке.

Согласие действует до достижения целей обработки или до его отзыва. Отозвать согласие можно, направив \
письменное заявление турагентству; после отзыва данные будут удалены или обезличены, за исключением \
сведений, которые закон обязывает хранить.
"""


def _text(ConsentText, version: str):
    body = OLD_WEB_FORM_TEXT.format(version=version)
    text, _ = ConsentText.objects.get_or_create(
        version=f"web-{version}"[:32], defaults={"body": body, "sha256": hashlib.sha256(body.encode()).hexdigest()}
    )
    return text


def _subject(form: dict, lead) -> tuple[str, str, str]:
    """(kind, normalised value, blind index) of the sender, or three empty strings."""
    from apps.clients.normalization import contact_index, normalize_contact

    candidates = [("phone", form.get("phone")), ("email", form.get("email"))]
    if lead is not None:
        candidates += [("phone", lead.contact_phone), ("email", lead.contact_email)]
    for kind, value in candidates:
        if not value:
            continue
        try:
            normalised = normalize_contact(kind, value)
        except ValidationError:
            continue
        return kind, normalised, contact_index(kind, normalised)
    return "", "", ""


def forwards(apps, schema_editor):
    Old = apps.get_model("integrations", "Consent")
    Consent = apps.get_model("clients", "Consent")
    ConsentText = apps.get_model("clients", "ConsentText")
    Lead = apps.get_model("leads", "Lead")
    texts: dict = {}
    for old in Old.objects.select_related("inbox_item").order_by("pk").iterator(chunk_size=500):
        if old.text_version not in texts:
            texts[old.text_version] = _text(ConsentText, old.text_version)
        lead = Lead.objects.filter(pk=old.lead_pk).first() if old.lead_pk else None
        form = (old.inbox_item.payload or {}).get("form") or {}
        kind, value, index = _subject(form, lead)
        client_id = lead.client_id if lead is not None else None
        if client_id is None and not index:
            continue  # names nobody (see the module's docstring)
        if Consent.objects.filter(channel="web", evidence_message_id=old.inbox_item.external_id).exists():
            continue
        Consent.objects.create(
            client_id=client_id, subject_kind=kind, subject_value=value, subject_index=index, lead_id=old.lead_pk,
            purposes=["contract"], text=texts[old.text_version], channel="web", given_at=old.given_at,
            evidence_ip=old.ip_address, evidence_user_agent="", evidence_message_id=old.inbox_item.external_id[:255],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_outbound_states_smtp"),
        ("clients", "0006_consent_subject_value"),
        ("leads", "0004_alter_leadattachment_name"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.DeleteModel(name="Consent"),
    ]
