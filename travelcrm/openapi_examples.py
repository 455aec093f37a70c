"""Example requests and answers for the OpenAPI schema, built from a serializer's fields.

An operation without its own `OpenApiExample` gets one made here (travelcrm.api.ErrorAwareAutoSchema):
every field of the serializer with a value a travel agency would really send or see — a Russian name,
a Moscow phone, a price as a decimal string ("12500.00"), a time with its offset — chosen by the
field's name first, then by its type and limits. So a new endpoint is documented with an example
without anyone writing one; hand-written examples (the per-type service examples) take precedence.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.plumbing import force_instance, get_override, is_list_serializer, is_serializer
from rest_framework import fields as drf_fields
from rest_framework import serializers

# Realistic values by field name (the API's field names are English, the data Russian).
BY_NAME: dict[str, Any] = {
    "last_name": "Иванов", "first_name": "Иван", "middle_name": "Петрович",
    "last_name_latin": "IVANOV", "first_name_latin": "IVAN", "full_name": "Иванов Иван Петрович",
    "client_name": "Иванов Иван Петрович", "name": "Иванов Иван", "short_name": "ООО «Солнечный берег»",
    "legal_name": "Общество с ограниченной ответственностью «Солнечный берег»",
    "birth_date": "1985-04-12", "citizenship": "RU", "gender": "M",
    "phone": "+7 916 123-45-67", "phones": ["+7 916 123-45-67"], "email": "ivanov@example.ru",
    "emails": ["ivanov@example.ru"], "value": "+7 916 123-45-67", "telegram": "@ivanov_travel",
    "series": "4511", "number": "2026-000118", "allowed_actions": ["confirm", "cancel"],
    "issued_by": "ГУ МВД России по г. Москве",
    "issue_date": "2015-05-20", "expiry_date": "2030-05-20", "valid_until": "2030-05-20",
    "notes": "Предпочитает места у окна", "comment": "Согласовано с клиентом по телефону",
    "description": "Скан паспорта, разворот с фотографией", "reason": "Клиент отказался от поездки",
    "override_reason": "Оплата наличными в офисе, чек № 118",
    "text": "Здравствуйте! Хотим в Турцию в июле, двое взрослых.",
    "message": "Здравствуйте! Хотим в Турцию в июле, двое взрослых.",
    "title": "Анталья: Rixos Downtown 5*, 7 ночей", "city": "Анталья", "origin": "Москва (SVO)",
    "destination": "Анталья (AYT)", "address": "Москва, ул. Тверская, д. 7, офис 12",
    "timezone": "Europe/Moscow", "currency": "RUB", "cost_currency": "RUB",
    "price": "12500.00", "cost": "11000.00", "commission": "1500.00", "amount": "12500.00",
    "total_amount": "125000.00", "balance_due": "50000.00", "paid": "75000.00", "debt": "50000.00",
    "commission_percent": "12.0000", "vat_rate": "20.00", "rate": "1.00000000", "cost_rate": "1.00000000",
    "deadline": "2026-06-20T18:00:00+03:00", "start_dt": "2026-07-01T10:00:00+03:00",
    "end_dt": "2026-07-08T12:00:00+03:00", "date": "2026-06-15", "date_from": "2026-06-01",
    "date_to": "2026-06-30", "given_at": "2026-06-15T12:30:00+03:00", "time": "12:30:00",
    "inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195", "bik": "044525225",
    "account": "40702810938000000001", "corr_account": "30101810400000000225",
    "bank_name": "ПАО Сбербанк", "bank_city": "Москва", "director_name": "Петров Пётр Петрович",
    "accountant_name": "Сидорова Анна Ивановна", "password": "Ласточка-2026!", "old_password": "Ласточка-2026!",
    "new_password": "Синица-2027!", "admin_password": "Пароль-администратора-2026",
    "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
    "access": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
    "body": "<h1>Договор № {{ order.number }}</h1>", "css": "h1 { font-size: 16pt; }",
    "api_token": "7012345678:AAH-examp1e-t0ken-from-BotFather", "verify_token": "verify-2026",
    "bank_doc_number": "118", "purpose": "Оплата по договору № 2026-000118", "order_number": "2026-000118",
    "file_name": "Счёт 2026-000118 v1.pdf", "original_name": "passport.pdf", "content_type": "application/pdf",
    "url": "/api/v1/documents/118/download/", "download_url": "/api/v1/documents/118/download/",
    "smtp_from": "tours@example.ru", "detail": "Готово.", "code": "validation_error", "search": "Иванов",
    "ordering": "-created_at",
}
MOMENT = "2026-06-15T12:30:00+03:00"
# The same name, another meaning: by the serializer's class name.
BY_SERIALIZER_AND_NAME: dict[tuple[str, str], Any] = {("Passport", "number"): "654321"}
# Optional request fields that would make the example say something odd (an alternative that is
# also an add-on): left out, the reference lists them.
LEFT_OUT_OF_REQUESTS = {"alternative_of", "offer_option"}


def example_for(serializer, direction: str) -> Any:
    """An example value for a serializer (or a list serializer), request or response side."""
    serializer = force_instance(serializer)
    if is_list_serializer(serializer):
        return [example_for(serializer.child, direction)]
    if not is_serializer(serializer):
        return None
    result = {}
    for name, field in serializer.fields.items():
        if direction == "request" and field.read_only:
            continue
        if direction == "response" and field.write_only:
            continue
        if direction == "request" and name in LEFT_OUT_OF_REQUESTS:
            continue
        special = next((value for (owner, key), value in BY_SERIALIZER_AND_NAME.items()
                        if key == name and owner in type(serializer).__name__), _SKIP)  # fmt: skip
        value = special if special is not _SKIP else _field_value(name, field, direction)
        if value is not _SKIP:
            result[name] = value
    return result


_SKIP = object()


def _field_value(name: str, field, direction: str) -> Any:  # noqa: C901, PLR0911 — one branch per field kind
    annotation = get_override(field, "field")
    if isinstance(annotation, dict) and "example" in annotation:
        return annotation["example"]
    if is_serializer(field) or is_list_serializer(field):
        return example_for(field, direction)
    if isinstance(field, serializers.ManyRelatedField):
        return [42]
    if isinstance(field, drf_fields.FileField):
        return "(файл)" if direction == "request" else "/files/example/"
    if isinstance(field, drf_fields.ChoiceField):
        choices = [key for key in field.choices if key not in ("", None)]
        preferred = BY_NAME.get(name)
        if isinstance(field, drf_fields.MultipleChoiceField):
            return choices[:1]
        return preferred if preferred in choices else (choices[0] if choices else "")
    if name in BY_NAME:
        return BY_NAME[name]
    if isinstance(field, drf_fields.BooleanField):
        return False
    if isinstance(field, serializers.PrimaryKeyRelatedField) or name == "id" or name.endswith("_id"):
        return 42
    if isinstance(field, drf_fields.IntegerField):
        return max(1, field.min_value or 1) if field.min_value is not None else 1
    if isinstance(field, drf_fields.DecimalField):
        return str(Decimal("1500").quantize(Decimal(1).scaleb(-(field.decimal_places or 0))))
    if isinstance(field, drf_fields.FloatField):
        return 1.5
    if isinstance(field, drf_fields.DateTimeField):
        return MOMENT
    if isinstance(field, drf_fields.DateField):
        return "2026-06-15"
    if isinstance(field, drf_fields.TimeField):
        return "12:30:00"
    if isinstance(field, drf_fields.EmailField):
        return "ivanov@example.ru"
    if isinstance(field, drf_fields.ListField):
        child = _field_value(name, field.child, direction) if field.child is not None else "…"
        return [child] if child is not _SKIP else []
    if isinstance(field, drf_fields.DictField | drf_fields.JSONField):
        return {}
    if isinstance(field, drf_fields.CharField):
        return "Пример"
    return _SKIP


# --- Free-form answers -------------------------------------------------------------------------------
# An answer documented as a free-form object (a report page, a statement, a subject access export)
# has no serializer to build an example from: these are written by hand, keyed by operationId and
# status, with the keys the views really send (apps/finance/api/views.py, apps/audit/services.py).
# Money is a decimal string, moments carry their offset. tests/test_openapi_docs.py fails on a
# JSON success answer without an example, so a new free-form answer needs an entry here.

JOB_STARTED = {"job_id": 118, "status_url": "/api/v1/jobs/118/"}


def _report_page(rows: list[dict], totals: list[dict]) -> dict:
    return {"count": len(rows), "next": None, "previous": None, "results": rows, "totals": totals}


_CONSENT = {
    "id": 42, "purposes": ["service", "marketing"], "channel": "paper",
    "given_at": "2026-03-10T11:20:00+03:00", "withdrawn_at": "2026-06-15T12:30:00+03:00", "is_active": False,
    "text_version": "2026-01", "text_sha256": "9f2c4e1ab07d3c58e6f1a2b4c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091",
    "evidence": {"ip": "***", "user_agent": "***", "scan_file_id": 310}, "lead_id": None,
}

_REPORTS: dict[str, dict] = {
    "clients": _report_page(
        [{"client_id": 42, "client_name": "Иванов Иван Петрович", "currency": "RUB", "orders": 3,
          "turnover": "412500.00", "paid": "362500.00", "debt": "50000.00"}],
        [{"currency": "RUB", "rows": 1, "turnover": "412500.00", "paid": "362500.00", "debt": "50000.00"}],
    ),
    "orders": _report_page(
        [{"id": 118, "number": "2026-000118", "status": "confirmed", "created_at": "2026-05-20T10:15:00+03:00",
          "deadline": "2026-06-20T18:00:00+03:00", "currency": "RUB", "client_id": 42,
          "client_name": "Иванов Иван Петрович", "operator_id": 7, "operator_name": "Смирнова Ольга",
          "total_amount": "125000.00", "paid_amount": "75000.00", "refunded_amount": "0.00",
          "commission": "15000.00", "balance_due": "50000.00", "cost_amount": "110000.00", "margin": "15000.00",
          "supplier_paid_amount": "110000.00", "supplier_balance_due": "0.00"}],
        [{"currency": "RUB", "rows": 1, "total_amount": "125000.00", "paid_amount": "75000.00",
          "refunded_amount": "0.00", "commission": "15000.00", "cost_amount": "110000.00", "margin": "15000.00",
          "debt": "50000.00", "supplier_balance_due": "0.00"}],
    ),
    "debts": _report_page(
        [{"id": 118, "number": "2026-000118", "status": "confirmed", "deadline": "2026-06-05T18:00:00+03:00",
          "currency": "RUB", "client_id": 42, "client_name": "Иванов Иван Петрович", "operator_id": 7,
          "operator_name": "Смирнова Ольга", "total_amount": "125000.00", "paid_amount": "75000.00",
          "refunded_amount": "0.00", "balance_due": "50000.00", "days_overdue": 10}],
        [{"currency": "RUB", "rows": 1, "total": "50000.00", "ageing_not_due": "0.00", "ageing_1_30": "50000.00",
          "ageing_31_90": "0.00", "ageing_90_plus": "0.00"}],
    ),
    "commissions": _report_page(
        [{"month": "2026-06-01", "supplier_id": 5, "supplier_name": "ООО «Анекс Тур»", "order__operator_id": 7,
          "operator_name": "Смирнова Ольга", "order_currency": "RUB", "services": 4, "orders": 2,
          "sales": "250000.00", "commission": "30000.00", "cost": "220000.00", "margin": "30000.00"}],
        [{"order_currency": "RUB", "rows": 2, "sales": "250000.00", "commission": "30000.00",
          "cost": "220000.00", "margin": "30000.00"}],
    ),
    "fx": _report_page(
        [{"id": 310, "date": "2026-06-01", "type": "income", "amount": "1000.00", "currency": "EUR",
          "rate": "98.50000000", "rate_is_manual": False, "amount_in_order_currency": "98500.00",
          "rate_on_date": "99.10000000", "amount_on_date": "99100.00", "difference": "600.00",
          "order_number": "2026-000118", "order_currency": "RUB"}],
        [{"currency": "RUB", "rows": 1, "difference": "600.00"}],
    ),
    "supplier-debts": _report_page(
        [{"id": 77, "order_id": 118, "order_number": "2026-000118", "order_status": "confirmed", "supplier_id": 5,
          "supplier_name": "ООО «Анекс Тур»", "currency": "RUB", "cost": "110000.00", "paid": "60000.00",
          "balance": "50000.00", "due_date": "2026-06-10", "days_overdue": 5}],
        [{"currency": "RUB", "rows": 1, "total": "50000.00", "ageing_not_due": "0.00", "ageing_1_30": "50000.00",
          "ageing_31_90": "0.00", "ageing_90_plus": "0.00"}],
    ),
    "sales": _report_page(
        [{"month": "2026-06-01", "currency": "RUB", "orders": 14, "sales": "1850000.00", "cost": "1620000.00",
          "margin": "230000.00", "commission": "230000.00", "paid": "1540000.00"}],
        [{"currency": "RUB", "rows": 14, "sales": "1850000.00", "cost": "1620000.00", "margin": "230000.00",
          "commission": "230000.00"}],
    ),
    "funnel": _report_page(
        [{"source": "telegram", "leads": 120, "orders": 31, "paid": 24},
         {"source": "web_form", "leads": 64, "orders": 12, "paid": 9}],
        [{"currency": "", "rows": 184, "leads": 184, "orders": 43, "paid": 33}],
    ),
}

RESPONSE_EXAMPLES: dict[str, dict[int, Any]] = {
    **{f"reports_{name.replace('-', '_')}_retrieve": {200: page, 202: JOB_STARTED} for name, page in _REPORTS.items()},
    "exports_1c_payments_retrieve": {202: JOB_STARTED},
    "finance_supplier_statements_retrieve": {200: {
        "supplier": 5, "supplier_name": "ООО «Анекс Тур»", "currency": "RUB", "date_from": "2026-06-01",
        "date_to": "2026-06-30", "opening": "20000.00", "total_debit": "110000.00", "total_credit": "80000.00",
        "closing": "50000.00",
        "movements": [
            {"date": "2026-06-03", "document": "Заказ 2026-000118: проживание", "order_number": "2026-000118",
             "debit": "110000.00", "credit": "0.00"},
            {"date": "2026-06-10", "document": "Платёжное поручение № 118", "order_number": "2026-000118",
             "debit": "0.00", "credit": "80000.00"},
        ],
    }},
    "finance_agent_reports_retrieve": {200: {
        "supplier_name": "ООО «Анекс Тур»", "currency": "RUB", "date_from": "2026-06-01", "date_to": "2026-06-30",
        "price": "125000.00", "reward": "15000.00", "due": "110000.00",
        "lines": [{"order_number": "2026-000118", "client": "Иванов Иван Петрович", "start": "2026-07-01",
                   "price": "125000.00", "reward": "15000.00", "due": "110000.00"}],
    }},
    "clients_consents_withdraw_create": {200: {
        "consent": _CONSENT,
        "anonymize": {
            "detail": "Согласие отозвано. Если других оснований для обработки нет, обезличьте данные клиента "
                      "(это необратимо).",
            "url": "/api/v1/clients/42/anonymize/", "method": "POST",
        },
    }},
    "clients_personal_data_retrieve": {200: {
        "generated_at": "2026-06-15T12:30:00+03:00",
        "client": {
            "id": 42, "last_name": "Иванов", "first_name": "Иван", "middle_name": "Петрович",
            "last_name_latin": "IVANOV", "first_name_latin": "IVAN", "birth_date": "1985-04-12", "citizenship": "RU",
            "notes": "Предпочитает места у окна", "created_at": "2026-03-10T11:20:00+03:00",
            "contacts": [{"id": 51, "kind": "phone", "value": "+7 916 123-45-67", "is_primary": True,
                          "is_archived": False}],
            "passports": [{"id": 61, "kind": "foreign", "series": "75", "number": "1234567",
                           "issue_date": "2020-05-20", "expiry_date": "2030-05-20", "issued_by": "МВД 77810",
                           "is_active": True, "is_archived": False}],
        },
        "files": [{"id": 310, "name": "passport.pdf", "content_type": "application/pdf", "size": 245760,
                   "created_at": "2026-03-10T11:25:00+03:00"}],
        "consents": [{key: value for key, value in _CONSENT.items() if key != "lead_id"}],
        "leads": [],
        "orders": [{"id": 118, "number": "2026-000118", "status": "confirmed", "role": "client",
                    "is_traveller": True, "currency": "RUB",
                    "total_amount": "125000.00", "paid_amount": "75000.00", "created_at": "2026-05-20T10:15:00+03:00",
                    "services": [{"id": 201, "type": "hotel", "status": "confirmed",
                                  "start": "2026-07-01T14:00:00+03:00", "end": "2026-07-08T12:00:00+03:00",
                                  "origin": "", "destination": "", "city": "Анталья", "price": "125000.00",
                                  "currency": "RUB"}]}],
        "payments": [{"id": 401, "order": "2026-000118", "type": "income", "method": "card", "amount": "75000.00",
                      "currency": "RUB", "date": "2026-05-21"}],
        "documents": [{"id": 118, "order": "2026-000118", "type": "contract", "number": "2026-000118", "version": 1,
                       "status": "sent", "generated_at": "2026-05-20T10:30:00+03:00", "has_file": True}],
        "access_log": [{"at": "2026-06-15T12:30:00+03:00", "user": "smirnova@example.ru",
                        "endpoint": "/api/v1/clients/42/", "method": "GET", "categories": ["contacts", "passport"]}],
    }},
}


def response_example_for(operation_id: str, status_code) -> Any:
    """The hand-written answer; a free-form 202 is always a background job's (job_id, status_url)."""
    if not status_code:
        return None
    default = JOB_STARTED if int(status_code) == 202 else None
    return RESPONSE_EXAMPLES.get(operation_id, {}).get(int(status_code), default)
