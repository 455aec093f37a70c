"""Serializers of the orders API: they check the shape; the services in apps.orders.services decide.

Read serializers of the hot paths (order list, services) build their dicts by hand from
prefetched rows: the list page is the most requested endpoint of the CRM (see BENCHMARKS.md).
"""

from functools import cached_property
from zoneinfo import ZoneInfo

import orjson
from django.contrib.auth import get_user_model
from django.utils import timezone as dj_timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from apps.clients.models import Client
from apps.core.money import CURRENCIES
from apps.orders import details as details_rules
from apps.orders.models import (
    TRANSPORT_TYPES,
    OfferOption,
    Order,
    OrderStatus,
    Service,
    ServiceStatus,
    ServiceType,
    Supplier,
    validate_timezone,
)
from apps.orders.services import allowed_actions
from apps.orders.zones import airport_zone
from travelcrm.api import BaseModelSerializer, StrictCharField, sane_year

UTC = ZoneInfo("UTC")


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _iso(value, tz: str | None = None) -> str | None:
    """ISO 8601 with the offset of the place (`tz`) or of the agency (Europe/Moscow by default)."""
    if value is None:
        return None
    zone = ZoneInfo(tz) if tz else dj_timezone.get_current_timezone()
    return value.astimezone(zone).isoformat()


def _iso_in(value, zone) -> str | None:
    return None if value is None else value.astimezone(zone).isoformat()


class OrjsonRenderer(JSONRenderer):
    """The same JSON as DRF's renderer for the plain dicts our read serializers build, faster."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        try:
            return orjson.dumps(data)
        except TypeError:  # a lazy string or another type orjson does not know
            return super().render(data, accepted_media_type, renderer_context)


def _person(client) -> dict | None:
    if client is None:
        return None
    return {"id": client.pk, "full_name": client.full_name}


def _user(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "full_name": user.full_name or user.email}


# --- Suppliers -------------------------------------------------------------------------------------


class SupplierSerializer(BaseModelSerializer):
    class Meta:
        model = Supplier
        fields = [
            "id",
            "name",
            "kind",
            "inn",
            "legal_name",
            "address",
            "registry_number",
            "security_kind",
            "security_amount",
            "security_provider",
            "security_number",
            "security_valid_from",
            "security_valid_until",
            "contacts",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The model's rules (INN checksum) run in the service through full_clean().
        extra_kwargs = {"inn": {"validators": []}}


# --- Small nested shapes ---------------------------------------------------------------------------


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = StrictCharField()


class WarningSerializer(serializers.Serializer):
    code = StrictCharField()
    message = StrictCharField()
    service_ids = serializers.ListField(child=serializers.IntegerField())


class ClientIdsField(serializers.ListField):
    """A list of client ids, checked in one query (DRF's PrimaryKeyRelatedField asks once per id)."""

    child = serializers.IntegerField(min_value=1)

    def to_internal_value(self, data) -> list[int]:
        ids = list(dict.fromkeys(super().to_internal_value(data)))
        found = set(Client.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError(f"Клиенты не найдены: {', '.join(map(str, missing))}.")
        return ids


class ServiceTravellerIdsField(serializers.ListField):
    """Client ids of a service's travellers. Not looked up here: service_create / service_update
    know the order's travellers (live clients) and look up only ids outside them."""

    child = serializers.IntegerField(min_value=1)


class LocalDateTimeField(serializers.DateTimeField):
    """Accepts aware or naive datetimes; a naive one is read in the service's own time zone."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [sane_year])
        super().__init__(**kwargs)

    def enforce_timezone(self, value):
        return value


# --- Services --------------------------------------------------------------------------------------


def _service_travellers(service: Service) -> list:
    """The travellers the selectors (Prefetch to_attr) or the service calls (with_travellers) loaded
    as `traveller_list`; a service read any other way asks the database."""
    loaded = getattr(service, "traveller_list", None)
    return list(service.travellers.all()) if loaded is None else loaded


# --- Service details: one documented shape per service type ---------------------------------------
# Built from apps.orders.details.SCHEMAS, the definitions clean_details() validates with, so the
# documentation cannot drift from the validation. A value is text (a number is taken too, as the
# validation does); an empty optional value may be null.

DETAILS_EXAMPLES: dict[str, dict[str, str]] = {
    "flight": {"carrier": "SU", "flight_number": "SU2136", "pnr": "K7LM2Q", "cabin_class": "economy",
               "baggage": "1 место по 23 кг"},
    "rail": {"train_number": "016А", "car": "7", "seat": "21", "pnr": "74512398126540"},
    "hotel": {"hotel_name": "Rixos Downtown Antalya 5*", "room_type": "Deluxe, вид на море", "meals": "AI",
              "confirmation_number": "RX-220871"},
    "transfer": {"vehicle": "Минивэн Mercedes Vito", "pickup": "Аэропорт Анталья (AYT), 14:30, табличка «Иванов»",
                 "dropoff": "Rixos Downtown Antalya"},
    "local": {"title": "Обзорная экскурсия по Старому городу", "kind": "excursion",
              "description": "3 часа, русскоговорящий гид, сбор в холле отеля в 9:00"},
}


def _details_property(spec: details_rules.Field) -> dict:
    text = {"type": "string", "description": spec.label, "nullable": not spec.required}
    if spec.choices:
        return {**text, "enum": [*spec.choices, *([] if spec.required else [None])]}
    return {"anyOf": [text, {"type": "integer"}], "description": spec.label}


def details_schema() -> dict:
    variants = []
    for service_type, fields in details_rules.SCHEMAS.items():
        variant = {
            "title": service_type,
            "type": "object",
            "description": f"details услуги типа {service_type}",
            "properties": {key: _details_property(spec) for key, spec in fields.items()},
            "additionalProperties": False,
            "example": DETAILS_EXAMPLES[service_type],
        }
        required = [key for key, spec in fields.items() if spec.required]
        if required:
            variant["required"] = required
        variants.append(variant)
    return {
        "oneOf": variants,
        "description": "Поля по типу услуги (type): flight — перелёт, rail — поезд, hotel — проживание, "
                       "transfer — трансфер, local — экскурсия, страховка, виза и прочее.",
        "example": DETAILS_EXAMPLES["flight"],
    }


@extend_schema_field(details_schema())
class ServiceDetailsField(serializers.JSONField):
    """The service's `details`: a JSON object, checked per type by apps.orders.details.clean_details."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("Детали услуги должны быть объектом JSON.")
        return value


def service_examples() -> list[OpenApiExample]:
    """One request example per service type, with realistic times, places and prices."""
    common = {"status": "booked", "timezone": "Europe/Moscow", "currency": "RUB", "supplier": 12, "travellers": [42]}
    per_type = {
        "flight": {"start_dt": "2026-07-01T10:05:00", "end_dt": "2026-07-01T13:50:00",
                   "end_timezone": "Europe/Istanbul", "origin": "Москва (SVO)", "destination": "Анталья (AYT)",
                   "price": "38400.00",
                   "commission": "1920.00"},
        "rail": {"start_dt": "2026-06-20T23:55:00", "end_dt": "2026-06-21T07:55:00", "origin": "Москва",
                 "destination": "Санкт-Петербург", "price": "9850.00", "commission": "490.00"},
        "hotel": {"start_dt": "2026-07-01T14:00:00", "end_dt": "2026-07-08T12:00:00", "timezone": "Europe/Istanbul",
                  "city": "Анталья", "address": "Kenan Evren Blv. 52, Antalya", "price": "186500.00",
                  "commission": "22380.00", "cost": "164120.00"},
        "transfer": {"start_dt": "2026-07-01T14:30:00", "end_dt": "2026-07-01T15:10:00",
                     "timezone": "Europe/Istanbul", "city": "Анталья", "price": "4500.00", "commission": "450.00"},
        "local": {"start_dt": "2026-07-03T09:00:00", "end_dt": "2026-07-03T12:00:00", "timezone": "Europe/Istanbul",
                  "city": "Анталья", "price": "3200.00", "commission": "640.00"},
    }
    names = {"flight": "Перелёт", "rail": "Поезд", "hotel": "Проживание", "transfer": "Трансфер",
             "local": "Экскурсия"}
    return [
        OpenApiExample(names[service_type], summary=f"{names[service_type]} (type={service_type})", request_only=True,
                       value={"type": service_type, **common, **values, "details": DETAILS_EXAMPLES[service_type]})
        for service_type, values in per_type.items()
    ]


class ServiceSerializer(BaseModelSerializer):
    """A service as the API shows it: times in the place's time zone, travellers by name."""

    start_dt = serializers.DateTimeField(help_text="Начало, в часовом поясе места (со смещением).")
    end_dt = serializers.DateTimeField(help_text="Окончание, в часовом поясе места (со смещением).")
    title = StrictCharField()
    travellers = PersonSerializer(many=True)
    supplier_name = StrictCharField(allow_null=True)
    margin_in_order_currency = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Цена минус нетто, в валюте заказа."
    )
    details = ServiceDetailsField()

    class Meta:
        model = Service
        fields = [
            "id",
            "order",
            "type",
            "status",
            "title",
            "start_dt",
            "end_dt",
            "timezone",
            "end_timezone",
            "origin",
            "destination",
            "city",
            "address",
            "supplier",
            "supplier_name",
            "price",
            "currency",
            "rate",
            "rate_is_estimate",
            "commission",
            "commission_percent",
            "price_in_order_currency",
            "commission_in_order_currency",
            "cost",
            "cost_currency",
            "cost_rate",
            "cost_due_date",
            "cost_in_order_currency",
            "margin_in_order_currency",
            "offer_option",
            "alternative_of",
            "travellers",
            "details",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, s: Service) -> dict:
        return {
            "id": s.pk,
            "order": s.order_id,
            "type": s.type,
            "status": s.status,
            "title": s.title,
            "start_dt": _iso(s.start_dt, s.timezone),
            "end_dt": _iso(s.end_dt, s.arrival_timezone),
            "timezone": s.timezone,
            "end_timezone": s.end_timezone,
            "origin": s.origin,
            "destination": s.destination,
            "city": s.city,
            "address": s.address,
            "supplier": s.supplier_id,
            "supplier_name": s.supplier.name if s.supplier_id else None,
            "price": _money(s.price),
            "currency": s.currency,
            "rate": f"{s.rate:.8f}",
            "rate_is_estimate": s.rate_is_estimate,
            "commission": _money(s.commission),
            "commission_percent": None if s.commission_percent is None else str(s.commission_percent),
            "price_in_order_currency": _money(s.price_in_order_currency),
            "commission_in_order_currency": _money(s.commission_in_order_currency),
            "cost": _money(s.cost),
            "cost_currency": s.cost_currency,
            "cost_rate": f"{s.cost_rate:.8f}",
            "cost_due_date": s.cost_due_date.isoformat() if s.cost_due_date else None,
            "cost_in_order_currency": _money(s.cost_in_order_currency),
            "margin_in_order_currency": _money(s.price_in_order_currency - s.cost_in_order_currency),
            "offer_option": s.offer_option,
            "alternative_of": s.alternative_of_id,
            "travellers": [_person(t) for t in _service_travellers(s)],
            "details": s.details,
            "created_at": _iso(s.created_at),
            "updated_at": _iso(s.updated_at),
        }


class ServiceWriteSerializer(serializers.Serializer):
    """Input of a service. Naive times are read in `timezone` (the place's zone)."""

    type = serializers.ChoiceField(choices=ServiceType.choices)
    status = serializers.ChoiceField(choices=ServiceStatus.choices, required=False)
    start_dt = LocalDateTimeField()
    end_dt = LocalDateTimeField()
    timezone = StrictCharField(max_length=64, required=False, default="Europe/Moscow")
    end_timezone = StrictCharField(
        max_length=64, required=False, allow_blank=True,
        help_text="Transport (flight, rail, transfer): the arrival's IANA zone; `end_dt` is read and shown in it. "
                  "Empty or left out: a flight's from its destination's IATA code, else as `timezone`. "
                  "Other types: always empty.",
    )
    origin = StrictCharField(max_length=120, required=False, allow_blank=True)
    destination = StrictCharField(max_length=120, required=False, allow_blank=True)
    city = StrictCharField(max_length=120, required=False, allow_blank=True)
    address = StrictCharField(max_length=300, required=False, allow_blank=True)
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all(), required=False, allow_null=True)
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False)
    rate = serializers.DecimalField(
        max_digits=18,
        decimal_places=8,
        required=False,
        allow_null=True,
        help_text="Курс к валюте заказа; обязателен, когда валюты различаются и курс не найден в справочнике.",
    )
    commission = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    commission_percent = serializers.DecimalField(max_digits=7, decimal_places=4, required=False, allow_null=True)
    cost = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Нетто поставщику; пусто (null) — агентская продажа: цена минус комиссия.",
    )
    cost_currency = serializers.ChoiceField(choices=CURRENCIES, required=False)
    cost_rate = serializers.DecimalField(
        max_digits=18,
        decimal_places=8,
        required=False,
        allow_null=True,
        help_text="Курс валюты нетто к валюте заказа; по умолчанию курс услуги или курс из справочника.",
    )
    cost_due_date = serializers.DateField(required=False, allow_null=True, validators=[sane_year],
        help_text="Срок оплаты поставщику.")
    travellers = ServiceTravellerIdsField(
        required=False, help_text="Туристы услуги (id; по умолчанию — все туристы заказа)."
    )
    offer_option = serializers.ChoiceField(
        choices=OfferOption.choices, required=False, allow_blank=True,
        help_text="In an offer: \"\" part of the package, optional — an add-on, alternative — instead of "
                  "`alternative_of`. Options and alternatives are not in the offer's total.",
    )
    alternative_of = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Id of the service (same order) this one replaces."
    )
    details = ServiceDetailsField(required=False)

    def validate_timezone(self, value: str) -> str:
        try:
            validate_timezone(value)
        except Exception as error:  # noqa: BLE001 — Django's ValidationError → DRF's
            raise serializers.ValidationError(f"Неизвестный часовой пояс «{value}».") from error
        return value

    def validate_end_timezone(self, value: str) -> str:
        return self.validate_timezone(value) if value else value

    def validate(self, attrs: dict) -> dict:
        zone_name = attrs.get("timezone") or getattr(self.instance, "timezone", None) or "Europe/Moscow"
        for key, name in (("start_dt", zone_name), ("end_dt", self._arrival_zone(attrs, zone_name))):
            value = attrs.get(key)
            if value is not None and dj_timezone.is_naive(value):
                try:
                    zone = ZoneInfo(name)
                except Exception:  # noqa: BLE001 — reported by validate_timezone
                    zone = UTC
                attrs[key] = value.replace(tzinfo=zone)
        return attrs

    def _arrival_zone(self, attrs: dict, departure: str) -> str:
        """The zone a naive `end_dt` is read in: as the services will store it (a transport's
        `end_timezone`, else a flight's destination airport's, else the departure's)."""
        service_type = attrs.get("type") or getattr(self.instance, "type", None)
        if service_type not in TRANSPORT_TYPES:
            return departure
        given = attrs["end_timezone"] if "end_timezone" in attrs else getattr(self.instance, "end_timezone", "")
        if given:
            return given
        destination = attrs.get("destination", getattr(self.instance, "destination", "")) or ""
        return (service_type == ServiceType.FLIGHT and airport_zone(destination)) or departure


# --- Orders ----------------------------------------------------------------------------------------


class OrderListSerializer(BaseModelSerializer):
    """One row of the order list (client, operator and travellers are prefetched by the selector)."""

    client = PersonSerializer()
    operator = PersonSerializer(allow_null=True)
    travellers = PersonSerializer(many=True)
    warnings = WarningSerializer(many=True)
    allowed_actions = serializers.ListField(child=StrictCharField())

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "currency",
            "total_amount",
            "commission",
            "paid_amount",
            "refunded_amount",
            "balance_due",
            "cost_amount",
            "margin",
            "supplier_paid_amount",
            "supplier_balance_due",
            "deadline",
            "client",
            "travellers",
            "operator",
            "trip_start",
            "trip_end",
            "warnings",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]

    @cached_property
    def _zone(self):
        return dj_timezone.get_current_timezone()  # once per list, not once per row

    def to_representation(self, row: dict) -> dict:
        """`row` is a dict from selectors.order_rows() (the list page builds no model instances)."""
        zone = self._zone
        operator = None
        if row["operator_id"]:
            operator = {"id": row["operator_id"], "full_name": row["operator__full_name"] or row["operator__email"]}
        names = (row["client__last_name"], row["client__first_name"], row["client__middle_name"])
        return {
            "id": row["id"],
            "number": row["number"],
            "status": row["status"],
            "currency": row["currency"],
            "total_amount": _money(row["total_amount"]),
            "commission": _money(row["commission"]),
            "paid_amount": _money(row["paid_amount"]),
            "refunded_amount": _money(row["refunded_amount"]),
            "balance_due": _money(row["balance_due"]),
            "cost_amount": _money(row["cost_amount"]),
            "margin": _money(row["margin"]),
            "supplier_paid_amount": _money(row["supplier_paid_amount"]),
            "supplier_balance_due": _money(row["supplier_balance_due"]),
            "deadline": _iso_in(row["deadline"], zone),
            "client": {"id": row["client_id"], "full_name": " ".join(part for part in names if part)},
            "travellers": row["traveller_list"],
            "operator": operator,
            "trip_start": _iso_in(row["trip_start"], zone),
            "trip_end": _iso_in(row["trip_end"], zone),
            "warnings": row["warnings"],
            "allowed_actions": allowed_actions(row["status"]),
            "created_at": _iso_in(row["created_at"], zone),
            "updated_at": _iso_in(row["updated_at"], zone),
        }


class OrderDetailSerializer(OrderListSerializer):
    services = ServiceSerializer(many=True)

    class Meta(OrderListSerializer.Meta):
        fields = [*OrderListSerializer.Meta.fields, "notes", "offer_valid_until", "services"]

    def to_representation(self, o: Order) -> dict:
        return {
            "id": o.pk,
            "number": o.number,
            "status": o.status,
            "currency": o.currency,
            "total_amount": _money(o.total_amount),
            "commission": _money(o.commission),
            "paid_amount": _money(o.paid_amount),
            "refunded_amount": _money(o.refunded_amount),
            "balance_due": _money(o.balance_due),
            "cost_amount": _money(o.cost_amount),
            "margin": _money(o.margin),
            "supplier_paid_amount": _money(o.supplier_paid_amount),
            "supplier_balance_due": _money(o.supplier_balance_due),
            "deadline": _iso(o.deadline),
            "client": _person(o.client),
            "travellers": [_person(t) for t in o.travellers.all()],
            "operator": _user(o.operator),
            "trip_start": _iso(o.trip_start),
            "trip_end": _iso(o.trip_end),
            "warnings": o.warnings,
            "allowed_actions": allowed_actions(o.status),
            "created_at": _iso(o.created_at),
            "updated_at": _iso(o.updated_at),
            "notes": o.notes,
            "offer_valid_until": o.offer_valid_until.isoformat() if o.offer_valid_until else None,
            "services": [ServiceSerializer().to_representation(s) for s in o.services.all()],
        }


class OrderWriteSerializer(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all())
    travellers = ClientIdsField(required=False, help_text="Туристы заказа (id клиентов).")
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False)
    deadline = serializers.DateTimeField(required=False, allow_null=True, validators=[sane_year])
    offer_valid_until = serializers.DateField(
        required=False, allow_null=True, validators=[sane_year],
        help_text="Срок действия коммерческого предложения (не срок оплаты)."
    )
    operator = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    notes = StrictCharField(required=False, allow_blank=True)


class CheckResultSerializer(serializers.Serializer):
    errors = WarningSerializer(many=True)
    warnings = WarningSerializer(many=True)


class LeadConvertSerializer(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.all(),
        required=False,
        allow_null=True,
        help_text="Клиент заказа; по умолчанию — клиент заявки или новый (с проверкой дублей).",
    )


# --- Timeline --------------------------------------------------------------------------------------


class TimelineItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[("service", "service"), ("event", "event")])
    at = serializers.DateTimeField(help_text="Время элемента (начало услуги или момент события).")
    end = serializers.DateTimeField(allow_null=True, help_text="Окончание услуги; у событий null.")
    type = StrictCharField(help_text="Тип услуги (flight, hotel, …) или вид события (created, payment, …).")
    title = StrictCharField()
    status = StrictCharField(allow_null=True, help_text="Статус услуги; у событий null.")
    service_id = serializers.IntegerField(allow_null=True)
    origin = StrictCharField(allow_blank=True)
    destination = StrictCharField(allow_blank=True)
    city = StrictCharField(allow_blank=True)
    address = StrictCharField(allow_blank=True)
    timezone = StrictCharField(allow_null=True)
    travellers = PersonSerializer(many=True)
    actor = PersonSerializer(allow_null=True)
    data = serializers.DictField()


class TimelineSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    number = StrictCharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    items = TimelineItemSerializer(many=True)
