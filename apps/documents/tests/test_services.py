"""Generation, content of the default documents, versioning, statuses, template upload and rollback."""

from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from apps.core.errors import BusinessError, ConflictError
from apps.core.money import quantize_money
from apps.documents import services
from apps.documents.models import Document, DocumentStatus, DocumentTemplateVersion
from apps.documents.rendering import amount_in_words, format_money
from apps.documents.tests.helpers import normalise, pdf_text
from apps.orders.models import OrderEvent

pytestmark = pytest.mark.django_db


def _money(value) -> str:
    return format_money(value).replace("\u00a0", " ")


def test_invoice_pdf_has_order_number_totals_and_words(order, operator):
    document = services.document_generate(order=order, doc_type="invoice", actor=operator)
    text = normalise(pdf_text(document))
    total = sum(s.price_in_order_currency for s in order.services.all())
    assert order.number in text
    assert document.number in text
    assert f"Всего к оплате: {_money(total)}" in text
    assert amount_in_words(total) in text
    assert "Без НДС" in text  # the demo agency is on the simplified system (УСН)
    assert "БИК 044525225" in text and "40702810938000000001" in text  # bank details
    assert document.version == 1 and document.status == DocumentStatus.DRAFT
    assert document.generated_by == operator
    assert document.file.name.startswith("documents/") and order.number not in document.file.name
    assert OrderEvent.objects.filter(order=order, kind="document_generated", data__document_id=document.pk).exists()


def test_vat_mode_prints_rate_and_amount(order, requisites):
    from apps.documents.demo import ensure_requisites

    ensure_requisites(vat_mode="vat", vat_rate="22.00")
    services.document_generate(order=order, doc_type="contract")
    document = services.document_generate(order=order, doc_type="act", actor=None)
    text = normalise(pdf_text(document))
    # The agent scheme: VAT is charged on the agent's fee only (the rest is the suppliers' money).
    fee = sum(s.price_in_order_currency - s.cost_in_order_currency for s in order.services.all())
    vat = quantize_money(fee * 22 / 122)
    assert "В том числе НДС 22 % (с агентского вознаграждения)" in text
    assert f"Агентское вознаграждение 1 усл. {_money(fee)} {_money(fee)}" in text
    assert _money(vat) in text


def test_act_has_402fz_requisites(order):
    contract = services.document_generate(order=order, doc_type="contract")
    document = services.document_generate(order=order, doc_type="act")
    text = normalise(pdf_text(document))
    assert f"Акт № {document.number} от" in text  # name of the document and its date
    assert "ООО «Солнечный ветер»" in text and "ИНН 7707083893" in text  # the organisation
    assert "оказанные услуги" in text  # content of the operation
    assert "Всего оказано услуг на сумму" in text  # amounts with the unit
    assert "Генеральный директор" in text and "Иванова М. П." in text  # position and signature
    assert "Смирнов А. В." in text  # the customer's signature
    assert amount_in_words(sum(s.price_in_order_currency for s in order.services.all())) in text
    assert f"Основание: Договор № {contract.number} от" in text  # the contract, not the order
    assert f"заказу № {order.number}" not in text


def test_contract_lists_travellers_and_services(order):
    document = services.document_generate(order=order, doc_type="contract")
    text = normalise(pdf_text(document))
    for traveller in order.travellers.all():
        assert traveller.full_name in text
    assert "Приложение № 1. Потребительские свойства туристского продукта" in text
    assert "SVO → AYT" in text


def test_offer_has_no_personal_data_beyond_the_client_name(order):
    document = services.document_generate(order=order, doc_type="offer")
    text = normalise(pdf_text(document))
    client = order.client
    assert "для Смирнова Алексея Викторовича" in text  # the name, declined
    assert "Уважаемый Алексей Викторович!" in text
    for contact in client.contacts.all():
        assert contact.value not in text
    for traveller in order.travellers.exclude(pk=client.pk):
        assert traveller.full_name not in text
    assert "1985" not in text  # no birth date
    assert "SMIRNOV" not in text


def test_generating_again_creates_next_version_and_keeps_files(order):
    first = services.document_generate(order=order, doc_type="invoice")
    second = services.document_generate(order=order, doc_type="invoice")
    other = services.document_generate(order=order, doc_type="offer")
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert first.file.name != second.file.name
    assert default_storage.exists(first.file.name) and default_storage.exists(second.file.name)
    assert Document.objects.filter(order=order, type="invoice").count() == 2


def test_sent_and_signed_documents_are_never_altered(order, operator):
    document = services.document_generate(order=order, doc_type="invoice")
    key, size = document.file.name, document.size
    services.document_mark_sent(document=document, actor=operator)
    with pytest.raises(ConflictError):
        services.document_mark_sent(document=document, actor=operator)
    signed = services.document_mark_signed(document=document, actor=operator)
    assert signed.status == DocumentStatus.SIGNED and signed.sent_at and signed.signed_at
    with pytest.raises(ConflictError):
        services.document_mark_signed(document=document, actor=operator)
    newer = services.document_generate(order=order, doc_type="invoice")
    signed.refresh_from_db()
    assert (signed.file.name, signed.size, signed.status, signed.version) == (key, size, "signed", 1)
    assert newer.version == 2 and newer.status == DocumentStatus.DRAFT
    kinds = list(OrderEvent.objects.filter(order=order, kind__startswith="document_").values_list("kind", flat=True))
    assert kinds.count("document_sent") == 1 and kinds.count("document_signed") == 1


def test_missing_requisites_is_a_clear_error(order):
    from apps.finance.models import AgencyRequisites

    AgencyRequisites.objects.all().delete()
    with pytest.raises(BusinessError) as caught:
        services.document_generate(order=order, doc_type="invoice")
    assert caught.value.code == "requisites_missing"
    assert not Document.objects.filter(order=order).exists()


def test_upload_creates_new_active_version_and_rollback_restores_old(order, supervisor):
    v1 = DocumentTemplateVersion.objects.get(template__type="invoice", is_active=True)
    body = "<h1>Счёт {{ document.number }}</h1><p>Итого {{ totals.total|money }} — {{ totals.total_in_words }}</p>"
    v2 = services.template_upload(doc_type="invoice", body=body, css="h1 { color: #333; }", actor=supervisor)
    v1.refresh_from_db()
    assert (v2.version, v2.is_active, v1.is_active) == (v1.version + 1, True, False)
    assert v2.uploaded_by == supervisor

    made_with_v2 = services.document_generate(order=order, doc_type="invoice")
    assert made_with_v2.template_version == v2
    assert "Поставщик" not in pdf_text(made_with_v2)

    services.template_version_activate(version=v1, actor=supervisor)
    made_with_v1 = services.document_generate(order=order, doc_type="invoice")
    assert made_with_v1.template_version == v1
    assert "Поставщик" in pdf_text(made_with_v1)
    assert DocumentTemplateVersion.objects.filter(template__type="invoice", is_active=True).count() == 1


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("<p>ok</p>\n<p>{{ order.number }</p>", 2),
        ("<p>ok</p>\n<p>ok</p>\n{{ order.__class__.__mro__ }}", 3),
        ("<p>\n{{ no_such_variable.field }}\n</p>", 2),
    ],
)
def test_broken_upload_is_refused_with_line_and_nothing_saved(templates, body, line):
    before = DocumentTemplateVersion.objects.count()
    with pytest.raises(BusinessError) as caught:
        services.template_upload(doc_type="invoice", body=body)
    assert caught.value.extra["line"] == line
    assert f"строка {line}" in caught.value.detail
    assert DocumentTemplateVersion.objects.count() == before


def test_default_templates_are_loaded_for_all_types(templates):
    active = set(DocumentTemplateVersion.objects.filter(is_active=True).values_list("template__type", flat=True))
    assert active == {"contract", "invoice", "act", "offer"}


@pytest.mark.parametrize("doc_type", ["contract", "invoice", "act", "offer"])
def test_bundled_default_templates_pass_the_upload_check(doc_type):
    from apps.documents.services import DEFAULT_TEMPLATES_DIR

    body = (DEFAULT_TEMPLATES_DIR / f"{doc_type}.html").read_text(encoding="utf-8")
    css = (DEFAULT_TEMPLATES_DIR / "base.css").read_text(encoding="utf-8")
    services.template_check(doc_type=doc_type, body=body, css=css)


def test_contract_preamble_is_declined_and_gendered(order):
    text = normalise(pdf_text(services.document_generate(order=order, doc_type="contract")))
    assert ("именуемое в дальнейшем «Агент», в лице генерального директора Ивановой Марии Петровны, "
            "действующей на основании Устава") in text
    assert "гражданин Смирнов Алексей Викторович, 12.03.1985 г. р., паспорт РФ" in text
    assert "именуемый в дальнейшем «Заказчик»" in text
    assert "(ая)" not in text and "(ый)" not in text


def test_untouched_defaults_are_refreshed_and_supervisor_versions_kept(templates):
    from apps.documents.models import DocumentTemplateVersion

    services.template_upload(doc_type="offer", body="<p>старый {{ client.full_name }}</p>",
                             comment=services.DEFAULT_COMMENT, check=False)
    services.template_upload(doc_type="act", body="<p>свой акт {{ client.full_name }}</p>", comment="наш акт")
    assert services.default_templates_refresh() == 1
    offer = DocumentTemplateVersion.objects.get(template__type="offer", is_active=True)
    assert offer.comment == services.REFRESHED_COMMENT and offer.body == services._bundled("offer")[0]
    act = DocumentTemplateVersion.objects.get(template__type="act", is_active=True)
    assert act.comment == "наш акт"
    assert services.default_templates_refresh() == 0


def test_offer_shows_options_apart_with_the_package_total_validity_and_manager(order, operator):
    from datetime import date

    from apps.accounts.models import User
    from apps.orders.models import Order
    from apps.orders.services import service_create

    User.objects.filter(pk=operator.pk).update(full_name="Кузнецова Ольга Андреевна", phone="+74951234567")
    Order.objects.filter(pk=order.pk).update(operator=operator, offer_valid_until=date(2026, 12, 31))
    hotel = order.services.get(type="hotel")
    package_total = sum(s.price_in_order_currency for s in order.services.all())
    service_create(order=order, data={
        "type": "hotel", "start_dt": hotel.start_dt, "end_dt": hotel.end_dt, "timezone": hotel.timezone,
        "city": "Кемер", "price": Decimal("150000.00"), "offer_option": "alternative", "alternative_of": hotel.pk,
        "details": {"hotel_name": "Akra Kemer"}})
    text = normalise(pdf_text(services.document_generate(order=order, doc_type="offer")))
    assert f"Стоимость пакета: {_money(package_total)} руб." in text
    assert "Вместо п. 3: Проживание: Akra Kemer" in text and "150 000,00" in text
    assert "Предложение действительно до 31.12.2026." in text
    assert "Кузнецова Ольга Андреевна, менеджер" in text and "+74951234567" in text and operator.email in text
    assert "Оплатить" not in text and "20.06.2026" not in text  # the payment deadline is not the validity
    # Contracts and invoices bill only the package: while an alternative is left, they are refused.
    with pytest.raises(BusinessError) as caught:
        services.document_generate(order=order, doc_type="invoice")
    assert caught.value.code == "document_checks_failed" and "варианты из КП" in caught.value.detail
