"""Names and positions declined by case, gendered words from the person's data (no «(ая)»)."""

import pytest

from apps.documents import russian
from apps.documents.context import agency_dict, sample_context
from apps.documents.demo import REQUISITES

# (nominative, gender, genitive, dative, instrumental)
NAMES = [
    # ordinary male and female
    ("Иванов Пётр Сергеевич", "male", "Иванова Петра Сергеевича", "Иванову Петру Сергеевичу",
     "Ивановым Петром Сергеевичем"),
    ("Иванова Мария Петровна", "female", "Ивановой Марии Петровны", "Ивановой Марии Петровне",
     "Ивановой Марией Петровной"),
    ("Толстой Лев Николаевич", "male", "Толстого Льва Николаевича", "Толстому Льву Николаевичу",
     "Толстым Львом Николаевичем"),
    ("Толстая Софья Андреевна", "female", "Толстой Софьи Андреевны", "Толстой Софье Андреевне",
     "Толстой Софьей Андреевной"),
    ("Кузьмина Любовь Ильинична", "female", "Кузьминой Любови Ильиничны", "Кузьминой Любови Ильиничне",
     "Кузьминой Любовью Ильиничной"),
    ("Белов Никита Ильич", "male", "Белова Никиты Ильича", "Белову Никите Ильичу", "Беловым Никитой Ильичом"),
    # double surnames
    ("Римский-Корсаков Николай Андреевич", "male", "Римского-Корсакова Николая Андреевича",
     "Римскому-Корсакову Николаю Андреевичу", "Римским-Корсаковым Николаем Андреевичем"),
    ("Салтыкова-Щедрина Ольга Петровна", "female", "Салтыковой-Щедриной Ольги Петровны",
     "Салтыковой-Щедриной Ольге Петровне", "Салтыковой-Щедриной Ольгой Петровной"),
    # surnames that never decline
    ("Шевченко Тарас Григорьевич", "male", "Шевченко Тараса Григорьевича", "Шевченко Тарасу Григорьевичу",
     "Шевченко Тарасом Григорьевичем"),
    ("Черных Ирина Олеговна", "female", "Черных Ирины Олеговны", "Черных Ирине Олеговне", "Черных Ириной Олеговной"),
    ("Белых Илья Олегович", "male", "Белых Ильи Олеговича", "Белых Илье Олеговичу", "Белых Ильёй Олеговичем"),
    ("Дюма Анна Ивановна", "female", "Дюма Анны Ивановны", "Дюма Анне Ивановне", "Дюма Анной Ивановной"),
    ("Гёте Иван Иванович", "male", "Гёте Ивана Ивановича", "Гёте Ивану Ивановичу", "Гёте Иваном Ивановичем"),
    # a consonant surname declines for a man, not for a woman
    ("Лебедь Александр Иванович", "male", "Лебедя Александра Ивановича", "Лебедю Александру Ивановичу",
     "Лебедем Александром Ивановичем"),
    ("Лебедь Анна Ивановна", "female", "Лебедь Анны Ивановны", "Лебедь Анне Ивановне", "Лебедь Анной Ивановной"),
    ("Ковальчук Павел Павлович", "male", "Ковальчука Павла Павловича", "Ковальчуку Павлу Павловичу",
     "Ковальчуком Павлом Павловичем"),
    ("Ковальчук Инга Павловна", "female", "Ковальчук Инги Павловны", "Ковальчук Инге Павловне",
     "Ковальчук Ингой Павловной"),
    # Turkic patronymics: the particle tells the gender and stays
    ("Мамедов Ильхам Гейдар оглы", "male", "Мамедова Ильхама Гейдар оглы", "Мамедову Ильхаму Гейдар оглы",
     "Мамедовым Ильхамом Гейдар оглы"),
    ("Алиева Лейла Ильхам кызы", "female", "Алиевой Лейлы Ильхам кызы", "Алиевой Лейле Ильхам кызы",
     "Алиевой Лейлой Ильхам кызы"),
    # no patronymic: the first name / surname tell
    ("Смирнова Елена", "female", "Смирновой Елены", "Смирновой Елене", "Смирновой Еленой"),
]


@pytest.mark.parametrize(("name", "gender", "gent", "datv", "ablt"), NAMES, ids=[row[0] for row in NAMES])
def test_names_decline_by_case(name, gender, gent, datv, ablt):
    words = russian.person_words(name)
    assert words["gender"] == gender
    assert (words["full_name_gent"], words["full_name_datv"], words["full_name_ablt"]) == (gent, datv, ablt)


@pytest.mark.parametrize("name", ["Ким Саша", "Smith John", "Ли"])
def test_unknown_gender_keeps_the_name_and_uses_neutral_wording(name):
    words = russian.person_words(name)
    assert words["gender"] == ""
    assert words["full_name_gent"] == name  # better undeclined than wrongly declined
    assert words["words"]["named"] == "далее —"
    assert words["words"]["dear"] == "Здравствуйте,"


def test_gendered_words():
    assert russian.person_words("Иванова Мария Петровна")["words"]["acting_gent"] == "действующей"
    assert russian.person_words("Иванов Пётр Сергеевич")["words"]["acting_gent"] == "действующего"
    assert russian.person_words("Смирнов Алексей Викторович")["words"]["dear"] == "Уважаемый"
    assert russian.person_words("Смирнова Елена Игоревна")["words"]["named"] == "именуемая в дальнейшем"
    assert russian.person_words("Смирнова Елена Игоревна")["address_name"] == "Елена Игоревна"


@pytest.mark.parametrize(("phrase", "gent", "ablt"), [
    ("генеральный директор", "генерального директора", "генеральным директором"),
    ("Генеральный директор", "Генерального директора", "Генеральным директором"),
    ("главный бухгалтер", "главного бухгалтера", "главным бухгалтером"),
    ("индивидуальный предприниматель", "индивидуального предпринимателя", "индивидуальным предпринимателем"),
    ("директор по туризму", "директора по туризму", "директором по туризму"),
])
def test_positions_decline(phrase, gent, ablt):
    assert russian.decline_phrase(phrase, "gent") == gent
    assert russian.decline_phrase(phrase, "ablt") == ablt


class _Requisites:
    def __init__(self, **values):
        self.__dict__.update(values)


def test_agency_preamble_words_for_an_organisation_and_an_entrepreneur():
    company = agency_dict(_Requisites(**REQUISITES))
    assert company["named"] == "именуемое в дальнейшем"  # «Общество» is neuter
    assert company["director_position_gent"] == "генерального директора"
    assert company["director_name_gent"] == "Ивановой Марии Петровны"
    assert company["director_words"]["acting_gent"] == "действующей"
    entrepreneur = agency_dict(_Requisites(**dict(
        REQUISITES, legal_name="Индивидуальный предприниматель Лебедь Александр Иванович", inn="500100732259",
        kpp="", ogrn="304500116000157", director_name="Лебедь Александр Иванович")))
    assert entrepreneur["is_entrepreneur"] is True
    assert entrepreneur["named"] == "именуемый в дальнейшем"
    assert entrepreneur["director_words"]["acting"] == "действующий"
    assert "ОГРНИП 304500116000157" in entrepreneur["director_basis"]


def test_no_gender_placeholders_in_any_default_template_text():
    from apps.documents.services import DEFAULT_TEMPLATES_DIR

    for path in DEFAULT_TEMPLATES_DIR.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        for placeholder in ("(ая)", "(ый)", "(ое)", "(а)", "(на)"):
            assert placeholder not in text, f"{path.name}: {placeholder}"


def test_sample_context_carries_the_declined_forms():
    context = sample_context("contract")
    assert context["client"]["words"]["named"] == "именуемый в дальнейшем"
    assert context["agency"]["director_name_gent"] == "Ивановой Марии Петровны"


@pytest.mark.parametrize(("address", "city"), [
    ("125009, г. Москва, ул. Тверская, д. 7, офис 12", "г. Москва"),
    ("620014, Свердловская обл., г.Екатеринбург, ул. Ленина, 1", "г. Екатеринбург"),
    ("Московская обл., пос. Внуково", ""),
])
def test_city_of_the_agency_address(address, city):
    from apps.documents.context import city_of

    assert city_of(address) == city
