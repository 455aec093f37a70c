"""Correct Russian in documents: names and positions declined by case, words chosen by gender.

``pymorphy3`` (with its OpenCorpora dictionary) knows most Russian surnames, first names and
patronymics (tags Surn / Name / Patr) and declines positions («генеральный директор» →
«генерального директора»). Where it does not know a surname (Лебедь, Зайчик) the rule-based
``petrovich`` declines it: a man's consonant surname declines, a woman's does not. Surnames that
never decline (Шевченко, Дюма, Черных, Гёте) stay as they are in both.

Gender comes from the person's data: the patronymic (…вич / …вна, оглы / кызы) first, then the
first name as the dictionary knows it, then the surname's ending (…ова / …ский). When nothing tells,
``gender_of`` returns "" and callers use wording that needs no gender (never «именуемый(ая)»).
"""

from __future__ import annotations

import functools
import re

MALE, FEMALE = "male", "female"

# Case names used in templates → pymorphy3 grammemes / petrovich cases.
CASES = {"nomn": "nomn", "gent": "gent", "datv": "datv", "accs": "accs", "ablt": "ablt", "loct": "loct"}

_CYRILLIC = re.compile(r"^[А-Яа-яЁё]+$")
# Turkic patronymic particles: «Гейдар оглы» declines only the first word.
_PATRONYMIC_PARTICLES = {"оглы": MALE, "улы": MALE, "уулу": MALE, "кызы": FEMALE, "гызы": FEMALE}
_FEMALE_SURNAME_ENDINGS = ("ова", "ева", "ёва", "ина", "ына", "ская", "цкая", "ая")
_MALE_SURNAME_ENDINGS = ("ов", "ев", "ёв", "ин", "ын", "ский", "цкий", "ой", "ый")


@functools.cache
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@functools.cache
def _petrovich():
    from petrovich.main import Petrovich

    return Petrovich()


def warm_up() -> None:
    """Load the dictionaries once per process (≈60 ms), not inside the first document."""
    _morph()
    _petrovich()


def _restore_case(word: str, like: str) -> str:
    """pymorphy3 answers in lower case: give the result the capitalisation of the original."""
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _gender_tag(gender: str) -> str:
    return "femn" if gender == FEMALE else "masc"


def _candidates(word: str, kind: str, gender: str):
    """Dictionary parses of a name part: the right kind (Surn/Name/Patr), gender and number."""
    grammeme = _gender_tag(gender)
    result = []
    for parse in _morph().parse(word):
        tag = parse.tag
        if kind not in tag or "plur" in tag:
            continue
        if tag.gender is not None and grammeme not in tag and "ms-f" not in tag:
            continue
        result.append(parse)
    # Prefer the parse whose own form is the nominative (Иванова as a woman's nominative, not the
    # genitive of Иванов).
    result.sort(key=lambda parse: 0 if "nomn" in parse.tag else 1)
    return result


def _petrovich_word(word: str, kind: str, case: str, gender: str) -> str:
    from petrovich.enums import Case, Gender

    petrovich_case = {"gent": Case.GENITIVE, "datv": Case.DATIVE, "accs": Case.ACCUSATIVE,
                      "ablt": Case.INSTRUMENTAL, "loct": Case.PREPOSITIONAL}[case]
    petrovich_gender = Gender.FEMALE if gender == FEMALE else Gender.MALE
    method = {"Surn": "lastname", "Name": "firstname", "Patr": "middlename"}[kind]
    declined = getattr(_petrovich(), method)(word, petrovich_case, petrovich_gender)
    # petrovich writes «Ольгы»: after г, к, х, ж, ш, ч, щ Russian spelling has «и», never «ы».
    return re.sub(r"(?<=[гкхжшчщ])ы$", "и", declined)


@functools.lru_cache(maxsize=4096)
def decline_word(word: str, kind: str, case: str, gender: str) -> str:
    """One part of a name («Иванова», kind "Surn") in a case for a gender. Unknown → petrovich."""
    if case == "nomn" or not word or not _CYRILLIC.match(word):
        return word
    parses = _candidates(word, kind, gender)
    if parses:
        declined = parses[0].inflect({CASES[case], "sing"})
        if declined is not None:
            return _restore_case(declined.word, word)
    # Not in the dictionary (Лебедь, Зайчик, a rare first name): petrovich's ending rules.
    return _petrovich_word(word, kind, case, gender)


def _decline_hyphenated(part: str, kind: str, case: str, gender: str) -> str:
    """Double surnames decline each half: Римский-Корсаков → Римского-Корсакова."""
    return "-".join(decline_word(piece, kind, case, gender) for piece in part.split("-"))


def split_full_name(full_name: str) -> tuple[str, str, str]:
    """«Фамилия Имя Отчество» (the order Client.full_name uses); a Turkic patronymic keeps its particle."""
    parts = full_name.split()
    if not parts:
        return "", "", ""
    last = parts[0]
    first = parts[1] if len(parts) > 1 else ""
    middle = " ".join(parts[2:])
    return last, first, middle


def gender_of(last: str, first: str = "", middle: str = "") -> str:
    """MALE, FEMALE or "" when the data does not tell."""
    middle_words = middle.lower().split()
    if middle_words:
        if middle_words[-1] in _PATRONYMIC_PARTICLES:
            return _PATRONYMIC_PARTICLES[middle_words[-1]]
        if middle_words[0].endswith(("вич", "ьич", "ич")):
            return MALE
        if middle_words[0].endswith(("вна", "чна", "шна")):
            return FEMALE
    if first and _CYRILLIC.match(first):
        genders = {
            "masc" if "masc" in parse.tag else "femn"
            for parse in _morph().parse(first)
            if "Name" in parse.tag and ("masc" in parse.tag or "femn" in parse.tag) and "nomn" in parse.tag
        }
        if genders == {"masc"}:
            return MALE
        if genders == {"femn"}:
            return FEMALE
    surname = last.lower().split("-")[-1]
    if surname.endswith(_FEMALE_SURNAME_ENDINGS):
        return FEMALE
    if surname.endswith(_MALE_SURNAME_ENDINGS):
        return MALE
    return ""


def decline_full_name(full_name: str, case: str, gender: str | None = None) -> str:
    """«Иванова Мария Петровна», "gent" → «Ивановой Марии Петровны». Gender unknown → unchanged."""
    last, first, middle = split_full_name(full_name)
    if gender is None:
        gender = gender_of(last, first, middle)
    if not gender or case == "nomn":
        return full_name
    parts = [_decline_hyphenated(last, "Surn", case, gender)]
    if first:
        parts.append(_decline_hyphenated(first, "Name", case, gender))
    if middle:
        words = middle.split()
        if words[-1].lower() in _PATRONYMIC_PARTICLES:
            # «Гейдар оглы»: the father's name stays, the particle too.
            parts.append(middle)
        else:
            parts.append(" ".join([decline_word(words[0], "Patr", case, gender), *words[1:]]))
    return " ".join(parts)


@functools.lru_cache(maxsize=512)
def decline_phrase(phrase: str, case: str) -> str:
    """A position or similar noun phrase: «генеральный директор» → «генерального директора».

    Adjectives agree with the head noun (the first noun); words after it (a genitive tail such as
    «по туризму», quoted names) stay as written."""
    if case == "nomn":
        return phrase
    words = phrase.split()
    result = []
    head_found = False
    for word in words:
        if head_found or not _CYRILLIC.match(word):
            result.append(word)
            continue
        parse = _pick_phrase_parse(word)
        if parse is None:
            result.append(word)
            continue
        declined = parse.inflect({CASES[case]})
        result.append(_restore_case(declined.word, word) if declined else word)
        if "NOUN" in parse.tag:
            head_found = True
    return " ".join(result)


def _pick_phrase_parse(word: str):
    for parse in _morph().parse(word):
        tag = parse.tag
        if ("NOUN" in tag or "ADJF" in tag) and "nomn" in tag and "sing" in tag:
            return parse
    return None


def noun_gender(phrase: str) -> str:
    """Grammatical gender of the first noun of a phrase: "masc", "femn", "neut" or ""
    («Общество с ограниченной ответственностью» → "neut")."""
    for word in phrase.split():
        if not _CYRILLIC.match(word):
            continue
        for parse in _morph().parse(word):
            if "NOUN" in parse.tag and "nomn" in parse.tag and "sing" in parse.tag:
                for grammeme in ("masc", "femn", "neut"):
                    if grammeme in parse.tag:
                        return grammeme
                break
    return ""


# Gender-dependent words documents need. "" (unknown) gets wording that needs no gender:
# «…, далее — «Заказчик»», «Здравствуйте, …!», and the position's own gender for participles
# that agree with «директора».
WORDS = {
    MALE: {"named": "именуемый в дальнейшем", "acting": "действующий", "acting_gent": "действующего",
           "dear": "Уважаемый", "citizen": "гражданин"},
    FEMALE: {"named": "именуемая в дальнейшем", "acting": "действующая", "acting_gent": "действующей",
             "dear": "Уважаемая", "citizen": "гражданка"},
    "": {"named": "далее —", "acting": "действующий", "acting_gent": "действующего",
         "dear": "Здравствуйте,", "citizen": ""},
}
ORGANISATION_NAMED = {"neut": "именуемое в дальнейшем", "femn": "именуемая в дальнейшем",
                      "masc": "именуемый в дальнейшем", "": "далее —"}


def person_words(full_name: str) -> dict:
    """Everything a template needs to write about a person correctly (plain strings only)."""
    last, first, middle = split_full_name(full_name)
    gender = gender_of(last, first, middle)
    return {
        "gender": gender,
        "full_name_gent": decline_full_name(full_name, "gent", gender),
        "full_name_datv": decline_full_name(full_name, "datv", gender),
        "full_name_ablt": decline_full_name(full_name, "ablt", gender),
        # «Мария Петровна» for a letter; a foreigner without a patronymic: the full name.
        "address_name": f"{first} {middle}".strip() if first and middle else full_name,
        "words": dict(WORDS[gender]),
    }
