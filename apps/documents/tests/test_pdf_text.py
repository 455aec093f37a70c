"""Proof by reading (issue 18 point 8): the text of each generated PDF of a fixture order holds every
element the document needs, declined and gendered correctly, and no placeholder."""

import re

import pytest

from apps.documents import services
from apps.documents.tests.helpers import normalise, pdf_text
from apps.orders.models import Supplier

pytestmark = pytest.mark.django_db

PLACEHOLDERS = re.compile(r"\((ая|ый|ое|а|на)\)|\{\{|\}\}|\{%|%\}|\bNone\b|\bundefined\b|\bnan\b|\[\]|\{\}")


def _text(order, doc_type: str) -> str:
    text = normalise(pdf_text(services.document_generate(order=order, doc_type=doc_type)))
    assert not PLACEHOLDERS.search(text), PLACEHOLDERS.search(text).group(0)
    return text


def test_tour_contract_has_every_element_of_decree_1852(order):
    operator = Supplier.objects.filter(kind="tour_operator", services__order=order).distinct().get()
    text = _text(order, "contract")
    required = [
        "Договор №", "о реализации туристского продукта",
        # parties, declined and gendered
        "именуемое в дальнейшем «Агент», в лице генерального директора Ивановой Марии Петровны, действующей на "
        "основании Устава и по поручению туроператора",
        "гражданин Смирнов Алексей Викторович, 12.03.1985 г. р., паспорт РФ 4510", "именуемый в дальнейшем «Заказчик»",
        # the tour operator: name, address, registry number, financial security
        f"Туроператор: {operator.legal_name}", operator.address, "реестровый номер в Едином федеральном реестре "
        f"туроператоров: {operator.registry_number}", "банковская гарантия № БГ-2026/0117", "50 000 000,00 руб.",
        "по 31.12.2026", "предоставлено: АО «Банк Гарант»", "ст. 17.4–17.5 132-ФЗ",
        # price and the agent's fee
        "Общая цена Услуг составляет", "в том числе вознаграждение Агента", "без НДС.",
        # consumer properties: services, dates, places
        "Приложение № 1. Потребительские свойства туристского продукта", "SVO → AYT", "Rixos Sungate",
        "10.07.2026", "2 000,00 EUR по курсу 92,2500 руб. за 1 EUR", "Исполнитель: ООО «Солнце Тур»",
        # claims procedure, changes, emergency help
        "Претензии к качеству туристского продукта", "в течение 20 дней", "10 дней", "ст. 14 132-ФЗ", "ТУРПОМОЩЬ",
        # tourists with their travel documents
        "Приложение № 2. Туристы", "SMIRNOVA ELENA", "заграничный паспорт 75", "до 10.02.2032",
        # signatures
        "Генеральный директор", "Иванова М. П.", "Смирнов А. В.",
    ]
    missing = [item for item in required if item not in text]
    assert not missing, missing
    # The personal-data consent is a separate document, not a clause of the contract.
    assert "даёт согласие на обработку" not in text and "согласия, оформленного отдельным документом" in text
    for traveller in order.travellers.all():
        assert traveller.full_name in text


def test_invoice_has_what_a_bank_clerk_checks(order):
    text = _text(order, "invoice")
    required = [
        "Счёт на оплату №", "ПАО Сбербанк", "БИК 044525225", "30101810400000000225", "40702810938000000001",
        "ИНН 7707083893", "КПП 770701001", "Получатель", "Покупатель (заказчик): Смирнов Алексей Викторович",
        "№ Наименование работ, услуг Кол-во Ед. Цена, руб. Сумма, руб.", "1 усл.", "Агентское вознаграждение",
        "EUR по курсу 92,2500 руб. за 1 EUR", "Всего к оплате", "Без НДС", "Всего наименований 5,",
        "Руководитель", "Главный бухгалтер", "Петров О. С.",
    ]
    missing = [item for item in required if item not in text]
    assert not missing, missing
    assert "тел." not in text and "@" not in text


def test_act_has_402fz_requisites_and_the_contract_as_basis(order):
    contract = services.document_generate(order=order, doc_type="contract")
    text = _text(order, "act")
    required = [
        "Акт №", "об оказании услуг", "Исполнитель (Агент):", "ОГРН 1027700132195", "Заказчик: Смирнов Алексей",
        f"Основание: Договор № {contract.number} от", "Содержание операции", "Кол-во", "Ед.", "1 усл.",
        "Агентское вознаграждение", "Вознаграждение Агента по договору составляет", "без НДС",
        "Всего оказано услуг на сумму", "Генеральный директор ООО «Солнечный ветер»", "Иванова М. П.",
        "Смирнов А. В.",
    ]
    missing = [item for item in required if item not in text]
    assert not missing, missing


def test_offer_has_manager_package_total_and_no_personal_data(order):
    text = _text(order, "offer")
    for item in ("Коммерческое предложение №", "для Смирнова Алексея Викторовича", "Уважаемый Алексей Викторович!",
                 "Ваш пакет", "Стоимость пакета:", "Цены действительны на дату составления предложения"):
        assert item in text, item
    assert "паспорт" not in text.lower() and "1985" not in text


@pytest.mark.parametrize(("last", "first", "middle", "expected"), [
    ("Смирнова", "Алёна", "Игоревна", "гражданка Смирнова Алёна Игоревна, 12.03.1985 г. р., паспорт РФ 4510"),
    ("Ким", "Саша", "", "и Ким Саша, 12.03.1985 г. р., паспорт РФ 4510"),
])
def test_contract_wording_follows_the_customer(order, last, first, middle, expected):
    from apps.clients.models import Client

    Client.objects.filter(pk=order.client_id).update(last_name=last, first_name=first, middle_name=middle)
    text = _text(order, "contract")
    assert expected in text
    named = {"Игоревна": "именуемая в дальнейшем «Заказчик»", "": "далее — «Заказчик»"}[middle]
    assert named in text and "(ая)" not in text
    if not middle:
        assert "гражданин" not in text and "именуемый в дальнейшем «Заказчик»" not in text


def test_contract_of_an_entrepreneur_agency(order):
    from apps.documents.demo import ensure_requisites

    ensure_requisites(legal_name="Индивидуальный предприниматель Лебедь Александр Иванович",
                      short_name="ИП Лебедь А. И.", inn="500100732259", kpp="", ogrn="304500116000157",
                      director_name="Лебедь Александр Иванович")
    text = _text(order, "contract")
    assert ("Индивидуальный предприниматель Лебедь Александр Иванович (ИНН 500100732259, ОГРНИП 304500116000157), "
            "именуемый в дальнейшем «Агент», действующий на основании листа записи ЕГРИП") in text
    assert "в лице" not in text and "Индивидуальный предприниматель / Лебедь А. И. /" in text
