"""Places of services: IATA codes and city/station names, compared by city; "is it abroad?".

A deliberately small gazetteer: the airports and cities the agency sells most. An unknown place is
compared by its text and treated as foreign (a possible extra warning beats a missing one).
"""

import re

# IATA airport code -> city (lower case, "ё" as "е").
AIRPORT_CITY = {
    # Russia
    "SVO": "москва",
    "DME": "москва",
    "VKO": "москва",
    "ZIA": "москва",
    "LED": "санкт-петербург",
    "AER": "сочи",
    "KRR": "краснодар",
    "KZN": "казань",
    "SVX": "екатеринбург",
    "OVB": "новосибирск",
    "ROV": "ростов-на-дону",
    "UFA": "уфа",
    "KUF": "самара",
    "MRV": "минеральные воды",
    "VVO": "владивосток",
    "KGD": "калининград",
    "IKT": "иркутск",
    "KJA": "красноярск",
    "GOJ": "нижний новгород",
    "CEK": "челябинск",
    "PEE": "пермь",
    "VOG": "волгоград",
    "MMK": "мурманск",
    "AAQ": "анапа",
    "SIP": "симферополь",
    "KHV": "хабаровск",
    "TJM": "тюмень",
    "OMS": "омск",
    "GDZ": "геленджик",
    "MCX": "махачкала",
    "UUS": "южно-сахалинск",
    "PKC": "петропавловск-камчатский",
    "YKS": "якутск",
    "ARH": "архангельск",
    # abroad
    "AYT": "анталья",
    "IST": "стамбул",
    "SAW": "стамбул",
    "DXB": "дубай",
    "DWC": "дубай",
    "AUH": "абу-даби",
    "HKT": "пхукет",
    "BKK": "бангкок",
    "DMK": "бангкок",
    "USM": "самуи",
    "HRG": "хургада",
    "SSH": "шарм-эль-шейх",
    "CAI": "каир",
    "TBS": "тбилиси",
    "BUS": "батуми",
    "EVN": "ереван",
    "GYD": "баку",
    "ALA": "алматы",
    "NQZ": "астана",
    "TAS": "ташкент",
    "MSQ": "минск",
    "PEK": "пекин",
    "PKX": "пекин",
    "PVG": "шанхай",
    "SHA": "шанхай",
    "DPS": "денпасар",
    "MLE": "мале",
    "GOI": "гоа",
    "CXR": "нячанг",
    "SGN": "хошимин",
    "HAN": "ханой",
    "BEG": "белград",
    "LCA": "ларнака",
    "PFO": "пафос",
    "DOH": "доха",
    "CMB": "коломбо",
}

RUSSIAN_CITIES = frozenset(
    {
        city
        for code, city in AIRPORT_CITY.items()
        if code
        in {
            "SVO",
            "DME",
            "VKO",
            "ZIA",
            "LED",
            "AER",
            "KRR",
            "KZN",
            "SVX",
            "OVB",
            "ROV",
            "UFA",
            "KUF",
            "MRV",
            "VVO",
            "KGD",
            "IKT",
            "KJA",
            "GOJ",
            "CEK",
            "PEE",
            "VOG",
            "MMK",
            "AAQ",
            "SIP",
            "KHV",
            "TJM",
            "OMS",
            "GDZ",
            "MCX",
            "UUS",
            "PKC",
            "YKS",
            "ARH",
        }
    }
    | {
        "петербург",
        "спб",
        "адлер",
        "красная поляна",
        "ярославль",
        "тверь",
        "владимир",
        "суздаль",
        "псков",
        "великий новгород",
        "кострома",
        "тула",
        "рязань",
        "воронеж",
        "саратов",
        "пятигорск",
        "кисловодск",
        "ессентуки",
        "евпатория",
        "ялта",
        "севастополь",
        "алушта",
        "феодосия",
        "судак",
        "туапсе",
        "кемерово",
        "томск",
        "барнаул",
        "горно-алтайск",
        "байкальск",
        "листвянка",
        "петрозаводск",
        "выборг",
        "зеленоградск",
        "светлогорск",
        "москва",
        "санкт-петербург",
        "moscow",
        "saint petersburg",
        "st. petersburg",
        "sochi",
        "kazan",
    }
)

_NOISE = re.compile(
    r"\b(аэропорт|airport|вокзал|station|ж/д|жд|терминал|terminal|г\.|город|international|международный)\b"
)


def normalize(place: str) -> str:
    """Lower case; an IATA code becomes its city; a station/airport name becomes the city it names."""
    text = (place or "").strip()
    if text.upper() in AIRPORT_CITY:
        return AIRPORT_CITY[text.upper()]
    text = text.lower().replace("ё", "е")
    text = re.split(r"[,(]", text, maxsplit=1)[0]
    text = _NOISE.sub(" ", text)
    return " ".join(text.split())


def same_place(first: str, second: str) -> bool:
    a, b = normalize(first), normalize(second)
    if not a or not b:
        return True
    return a == b or a.startswith(b + " ") or b.startswith(a + " ") or a.split(" ")[0] == b.split(" ")[0]


def is_foreign(place: str) -> bool:
    city = normalize(place)
    if not city:
        return False
    return city not in RUSSIAN_CITIES and city.split(" ")[0] not in RUSSIAN_CITIES
