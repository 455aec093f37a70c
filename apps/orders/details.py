"""Type-specific details of a service, validated per type by small declarative schemas.

`clean_details(type, data) -> dict` returns the cleaned details or raises Django's ValidationError
with fields named `details.<key>`, so the API and the admin show the same Russian messages.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Field:
    label: str
    required: bool = False
    max_length: int = 100
    choices: tuple[str, ...] = ()


# Russian names of the stored codes (the admin's selects; the API keeps the codes).
CHOICE_LABELS = {
    "economy": "Эконом",
    "premium_economy": "Премиум-эконом",
    "business": "Бизнес",
    "first": "Первый",
    "RO": "Без питания (RO)",
    "BB": "Завтраки (BB)",
    "HB": "Полупансион (HB)",
    "FB": "Полный пансион (FB)",
    "AI": "Всё включено (AI)",
    "UAI": "Ультра всё включено (UAI)",
    "excursion": "Экскурсия",
    "insurance": "Страховка",
    "visa": "Виза",
    "other": "Другое",
}


CABIN_CLASSES = ("economy", "premium_economy", "business", "first")
MEALS = ("RO", "BB", "HB", "FB", "AI", "UAI")
LOCAL_KINDS = ("excursion", "insurance", "visa", "other")

SCHEMAS: dict[str, dict[str, Field]] = {
    "flight": {
        "carrier": Field("Перевозчик (код или название)", required=True, max_length=60),
        "flight_number": Field("Номер рейса", required=True, max_length=10),
        "pnr": Field("PNR (код бронирования)", max_length=12),
        "cabin_class": Field("Класс обслуживания", choices=CABIN_CLASSES),
        "baggage": Field("Багаж", max_length=60),
    },
    "rail": {
        "train_number": Field("Номер поезда", required=True, max_length=10),
        "car": Field("Вагон", max_length=10),
        "seat": Field("Место", max_length=10),
        "pnr": Field("Номер заказа / PNR", max_length=20),
    },
    "hotel": {
        "hotel_name": Field("Гостиница", required=True, max_length=200),
        "room_type": Field("Тип номера", max_length=100),
        "meals": Field("Питание", choices=MEALS),
        "confirmation_number": Field("Номер подтверждения", max_length=50),
    },
    "transfer": {
        "vehicle": Field("Транспорт", max_length=100),
        "pickup": Field("Место и время подачи", max_length=200),
        "dropoff": Field("Место высадки", max_length=200),
    },
    "local": {
        "title": Field("Название (экскурсия, страховка, виза…)", required=True, max_length=200),
        "kind": Field("Вид", choices=LOCAL_KINDS),
        "description": Field("Описание", max_length=1000),
    },
}


def help_text() -> str:
    """One line per type for the admin's details widget."""
    lines = []
    for type_, schema in SCHEMAS.items():
        keys = ", ".join(
            f"{key}{'*' if spec.required else ''}" + (f" ({'/'.join(spec.choices)})" if spec.choices else "")
            for key, spec in schema.items()
        )
        lines.append(f"{type_}: {keys}")
    return "; ".join(lines) + ". * — обязательно."


def clean_details(service_type: str, data) -> dict:
    schema = SCHEMAS.get(service_type)
    if schema is None:
        raise ValidationError({"type": ["Неизвестный тип услуги."]})
    if data in (None, ""):
        data = {}
    if not isinstance(data, dict):
        raise ValidationError({"details": ["Детали услуги должны быть объектом JSON."]})
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for key in data:
        if key not in schema:
            errors[f"details.{key}"] = [f"Неизвестное поле для услуги типа «{service_type}»."]
    for key, spec in schema.items():
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors[f"details.{key}"] = [f"Обязательное поле: {spec.label}."]
            continue
        if not isinstance(value, str | int):
            errors[f"details.{key}"] = [f"{spec.label}: ожидается строка."]
            continue
        value = str(value).strip()
        if len(value) > spec.max_length:
            errors[f"details.{key}"] = [f"{spec.label}: не длиннее {spec.max_length} символов."]
        elif spec.choices and value not in spec.choices:
            errors[f"details.{key}"] = [f"{spec.label}: одно из {', '.join(spec.choices)}."]
        else:
            cleaned[key] = value
    if errors:
        raise ValidationError(errors)
    return cleaned
