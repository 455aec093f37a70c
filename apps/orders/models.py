"""Models of the orders app: suppliers, orders, the services of an order and its timeline events."""

import functools
import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.money import CURRENCIES, DEFAULT_CURRENCY

MONEY = {"max_digits": 14, "decimal_places": 2}
RATE = {"max_digits": 18, "decimal_places": 8}


# --- Supplier --------------------------------------------------------------------------------------

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(value: str) -> bool:
    """Russian taxpayer number: 10 digits (organisation) or 12 (person), with check digits."""
    if not value.isdigit() or len(value) not in (10, 12):
        return False
    if len(value) == 10:
        return _inn_digit(value, _INN10_WEIGHTS) == int(value[9])
    return _inn_digit(value, _INN11_WEIGHTS) == int(value[10]) and _inn_digit(value, _INN12_WEIGHTS) == int(value[11])


def validate_inn(value: str) -> None:
    if value and not inn_is_valid(value):
        raise ValidationError(_("ИНН должен состоять из 10 или 12 цифр с верными контрольными цифрами."), code="inn")


@functools.cache
def known_timezones() -> frozenset[str]:
    """IANA zone names (reading them scans the tz database on disk: once per process)."""
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ValidationError(_("Неизвестный часовой пояс «%(value)s»."), code="timezone", params={"value": value})


class SupplierKind(models.TextChoices):
    TOUR_OPERATOR = "tour_operator", _("Туроператор")
    AIRLINE = "airline", _("Авиакомпания")
    RAIL = "rail", _("Железная дорога")
    HOTEL = "hotel", _("Гостиница")
    TRANSFER = "transfer", _("Трансферная компания")
    INSURANCE = "insurance", _("Страховая компания")
    OTHER = "other", _("Другое")


class SecurityKind(models.TextChoices):
    """How a tour operator's liability to tourists is secured (Federal law 132-FZ, art. 17.1–17.5)."""

    BANK_GUARANTEE = "bank_guarantee", _("Банковская гарантия")
    INSURANCE = "insurance", _("Договор страхования ответственности")
    FUND = "fund", _("Фонд персональной ответственности")
    OTHER = "other", _("Другое")


REGISTRY_NUMBER_RE = re.compile(r"^[А-ЯЁA-Z]{2,4}\d? ?\d{6}$")


def validate_registry_number(value: str) -> None:
    if value and not REGISTRY_NUMBER_RE.match(value):
        raise ValidationError(
            _("Реестровый номер туроператора пишется как в едином федеральном реестре, например «РТО 012345»."),
            code="registry_number",
        )


class Supplier(models.Model):
    name = models.CharField(_("название"), max_length=200)
    kind = models.CharField(_("вид"), max_length=20, choices=SupplierKind.choices, default=SupplierKind.OTHER)
    inn = models.CharField(_("ИНН"), max_length=12, blank=True, validators=[validate_inn])
    legal_name = models.CharField(
        _("полное наименование"),
        max_length=300,
        blank=True,
        help_text=_("Как в договоре, например ООО «Туроператор»."),
    )
    address = models.CharField(_("адрес"), max_length=500, blank=True)
    # Tour operators only: what the tour contract must print (Federal law 132-FZ, art. 10).
    registry_number = models.CharField(
        _("реестровый номер"),
        max_length=20,
        blank=True,
        validators=[validate_registry_number],
        help_text=_("Номер в едином федеральном реестре туроператоров, например «РТО 012345»."),
    )
    security_kind = models.CharField(
        _("вид финансового обеспечения"), max_length=20, choices=SecurityKind.choices, blank=True,
    )
    security_amount = models.DecimalField(
        _("размер финансового обеспечения, ₽"), null=True, blank=True, **MONEY,
    )
    security_provider = models.CharField(
        _("кто предоставил обеспечение"), max_length=300, blank=True, help_text=_("Банк-гарант или страховщик."),
    )
    security_number = models.CharField(_("номер договора (гарантии)"), max_length=100, blank=True)
    security_valid_from = models.DateField(_("обеспечение действует с"), null=True, blank=True)
    security_valid_until = models.DateField(_("обеспечение действует до"), null=True, blank=True)
    contacts = models.TextField(_("контакты"), blank=True, help_text=_("Телефоны, e-mail, контактные лица."))
    notes = models.TextField(_("заметки"), blank=True)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    class Meta:
        verbose_name = _("поставщик")
        verbose_name_plural = _("поставщики")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[choice.value for choice in SupplierKind]), name="supplier_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(security_kind__in=["", *SecurityKind.values]), name="supplier_security_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(security_amount__isnull=True) | models.Q(security_amount__gt=0),
                name="supplier_security_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    SECURITY_FIELDS = (
        "security_kind", "security_amount", "security_provider", "security_number",
        "security_valid_from", "security_valid_until",
    )

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        is_operator = self.kind == SupplierKind.TOUR_OPERATOR
        if not is_operator:
            for name in ("registry_number", *self.SECURITY_FIELDS):
                if getattr(self, name) not in (None, ""):
                    errors[name] = [_("Заполняется только для туроператора.")]
        elif any(getattr(self, name) not in (None, "") for name in self.SECURITY_FIELDS):
            for name in ("security_kind", "security_amount", "security_provider", "security_valid_until"):
                if getattr(self, name) in (None, ""):
                    errors[name] = [_("Укажите вид, размер, кто предоставил и срок действия обеспечения.")]
        if (
            self.security_valid_from
            and self.security_valid_until
            and self.security_valid_until < self.security_valid_from
        ):
            errors["security_valid_until"] = [_("Срок действия кончается раньше, чем начинается.")]
        if errors:
            raise ValidationError(errors)


# --- Order -----------------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Черновик")
    CONFIRMED = "confirmed", _("Подтверждён")
    PAID = "paid", _("Оплачен")
    COMPLETED = "completed", _("Завершён")
    CANCELLED = "cancelled", _("Отменён")


class Order(models.Model):
    number = models.CharField(_("номер"), max_length=20, unique=True, editable=False)
    status = models.CharField(_("статус"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    currency = models.CharField(_("валюта"), max_length=3, choices=CURRENCIES, default=DEFAULT_CURRENCY)
    total_amount = models.DecimalField(_("сумма"), default=0, editable=False, **MONEY)
    commission = models.DecimalField(_("комиссия"), default=0, editable=False, **MONEY)
    paid_amount = models.DecimalField(_("оплачено"), default=0, editable=False, **MONEY)
    refunded_amount = models.DecimalField(_("возвращено"), default=0, editable=False, **MONEY)
    balance_due = models.DecimalField(_("долг"), default=0, editable=False, **MONEY)
    # The supplier side, in the order's currency: cost of the active services (kept by the orders
    # services), paid to suppliers net of their refunds (kept by finance), margin = total − cost.
    cost_amount = models.DecimalField(_("себестоимость"), default=0, editable=False, **MONEY)
    margin = models.DecimalField(_("маржа"), default=0, editable=False, **MONEY)
    supplier_paid_amount = models.DecimalField(_("оплачено поставщикам"), default=0, editable=False, **MONEY)
    supplier_balance_due = models.DecimalField(_("долг поставщикам"), default=0, editable=False, **MONEY)
    deadline = models.DateTimeField(_("срок"), null=True, blank=True, help_text=_("Срок оплаты или выписки."))
    offer_valid_until = models.DateField(
        _("КП действительно до"), null=True, blank=True,
        help_text=_("Срок действия коммерческого предложения (не срок оплаты)."),
    )
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("клиент"), on_delete=models.PROTECT, related_name="orders"
    )
    travellers = models.ManyToManyField(
        "clients.Client", verbose_name=_("туристы"), blank=True, related_name="trip_orders"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ответственный"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    notes = models.TextField(_("заметки"), blank=True)
    warnings = models.JSONField(_("предупреждения"), default=list, blank=True, editable=False)
    # First start / last end of the active services, kept by order_recalculate (filters, list).
    trip_start = models.DateTimeField(_("начало поездки"), null=True, blank=True, editable=False)
    trip_end = models.DateTimeField(_("конец поездки"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("создан"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)

    class Meta:
        verbose_name = _("заказ")
        verbose_name_plural = _("заказы")
        ordering = ["-created_at", "-id"]
        permissions = [("mark_paid_with_debt", _("Может отметить заказ оплаченным при долге (с причиной)"))]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="order_status_created_idx"),
            models.Index(fields=["deadline"], name="order_deadline_idx"),
            models.Index(fields=["trip_start", "trip_end"], name="order_trip_idx"),
            # The debt reports read only orders that owe (or are owed) money.
            models.Index(
                fields=["deadline", "id"], condition=~models.Q(balance_due=0), name="order_client_debt_idx"
            ),
            models.Index(
                fields=["created_at", "id"],
                condition=~models.Q(supplier_balance_due=0),
                name="order_supplier_debt_idx",
            ),
            # «Сегодня» (apps.workplace.selectors): the week's deadlines and the passports that expire,
            # read in (date, id) order and stopped after a dozen rows.
            models.Index(fields=["deadline", "id"], name="order_deadline_id_idx"),
            models.Index(
                fields=["trip_start", "id"],
                condition=models.Q(warnings__contains=[{"code": "passport_expires"}]),
                name="order_passport_warning_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in OrderStatus]), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(total_amount__gte=0) & models.Q(commission__gte=0), name="order_totals_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.number or str(_("новый заказ"))


# --- Service ---------------------------------------------------------------------------------------


class ServiceType(models.TextChoices):
    FLIGHT = "flight", _("Авиабилет")
    RAIL = "rail", _("Ж/д билет")
    HOTEL = "hotel", _("Проживание")
    TRANSFER = "transfer", _("Трансфер")
    LOCAL = "local", _("Местная услуга")


TRANSPORT_TYPES = frozenset({ServiceType.FLIGHT, ServiceType.RAIL, ServiceType.TRANSFER})


class ServiceStatus(models.TextChoices):
    BOOKED = "booked", _("Забронировано")
    TICKETED = "ticketed", _("Выписано")
    CANCELLED = "cancelled", _("Отменено")


class OfferOption(models.TextChoices):
    PACKAGE = "", _("В пакете")
    OPTIONAL = "optional", _("Опция (по желанию)")
    ALTERNATIVE = "alternative", _("Альтернатива")


class Service(models.Model):
    # Not a column: the travellers (names only) the selectors prefetch (Prefetch to_attr) or a service
    # call attaches (apps.orders.selectors.with_travellers), read by the API.
    traveller_list: list

    order = models.ForeignKey(Order, verbose_name=_("заказ"), on_delete=models.CASCADE, related_name="services")
    type = models.CharField(_("тип"), max_length=20, choices=ServiceType.choices)
    status = models.CharField(_("статус"), max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.BOOKED)
    start_dt = models.DateTimeField(_("начало"))
    end_dt = models.DateTimeField(_("окончание"))
    timezone = models.CharField(
        _("часовой пояс"),
        max_length=64,
        default="Europe/Moscow",
        validators=[validate_timezone],
        help_text=_("Часовой пояс места (IANA, например Europe/Istanbul): время показывается по нему."),
    )
    # A flight or a train may end in another zone: its arrival time is entered and shown in that one.
    end_timezone = models.CharField(
        _("часовой пояс прибытия"),
        max_length=64,
        blank=True,
        default="",
        db_default="",
        validators=[validate_timezone],
        help_text=_("Для перелёта и поезда: пояс места прибытия. Пусто — как у отправления."),
    )
    origin = models.CharField(_("откуда"), max_length=120, blank=True, help_text=_("Код IATA или город/станция."))
    destination = models.CharField(_("куда"), max_length=120, blank=True, help_text=_("Код IATA или город/станция."))
    city = models.CharField(_("город"), max_length=120, blank=True)
    address = models.CharField(_("адрес"), max_length=300, blank=True)
    supplier = models.ForeignKey(
        Supplier,
        verbose_name=_("поставщик"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
    )
    price = models.DecimalField(_("цена"), **MONEY)
    currency = models.CharField(_("валюта"), max_length=3, choices=CURRENCIES, default=DEFAULT_CURRENCY)
    rate = models.DecimalField(
        _("курс к валюте заказа"),
        default=1,
        help_text=_("Сколько единиц валюты заказа за единицу валюты услуги."),
        **RATE,
    )
    rate_is_estimate = models.BooleanField(
        _("курс ориентировочный"),
        default=False,
        db_default=False,  # rows written by plain SQL (imports, the benchmarks' seeding) get it too
        editable=False,
        help_text=_("Для услуги в будущем взят последний известный курс ЦБ; точный курс зафиксирует оплата."),
    )
    commission = models.DecimalField(_("комиссия"), default=0, **MONEY)
    commission_percent = models.DecimalField(
        _("комиссия, %"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Если указан процент, комиссия считается от цены."),
    )
    # Price and commission in the order's currency (price × rate), kept by the services.
    # Net cost to the supplier. Empty: an agent sale — the supplier gets price − commission, in the
    # service's currency at the service's rate, so the margin is exactly the commission.
    cost = models.DecimalField(
        _("нетто поставщику"),
        null=True,
        blank=True,
        help_text=_("Сколько платим поставщику. Пусто — агентская продажа: цена минус комиссия."),
        **MONEY,
    )
    cost_currency = models.CharField(
        _("валюта нетто"), max_length=3, choices=CURRENCIES, default=DEFAULT_CURRENCY
    )
    cost_rate = models.DecimalField(
        _("курс нетто к валюте заказа"),
        default=1,
        help_text=_("Сколько единиц валюты заказа за единицу валюты нетто; фиксируется при вводе."),
        **RATE,
    )
    cost_due_date = models.DateField(_("срок оплаты поставщику"), null=True, blank=True)
    cost_in_order_currency = models.DecimalField(_("нетто в валюте заказа"), default=0, editable=False, **MONEY)
    price_in_order_currency = models.DecimalField(_("цена в валюте заказа"), default=0, editable=False, **MONEY)
    commission_in_order_currency = models.DecimalField(
        _("комиссия в валюте заказа"), default=0, editable=False, **MONEY
    )
    travellers = models.ManyToManyField(
        "clients.Client", verbose_name=_("туристы"), blank=True, related_name="trip_services"
    )
    # In a commercial offer: "" — part of the package; an option the customer may add; or an
    # alternative to another service (e.g. another hotel). The offer's total is the package only.
    offer_option = models.CharField(
        _("в КП"), max_length=12, choices=OfferOption.choices, blank=True, default="",
        help_text=_("Опция (по желанию) или альтернатива другой услуги; в сумму КП не входит."),
    )
    # ON DELETE SET NULL is the database's (migration 0003): deleting a service costs no extra UPDATE.
    alternative_of = models.ForeignKey(
        "self", verbose_name=_("альтернатива услуги"), on_delete=models.DO_NOTHING, null=True, blank=True,
        related_name="alternatives",
    )
    details = models.JSONField(_("детали"), default=dict, blank=True)
    created_at = models.DateTimeField(_("создана"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)

    class Meta:
        verbose_name = _("услуга")
        verbose_name_plural = _("услуги")
        ordering = ["start_dt", "id"]
        indexes = [
            models.Index(fields=["order", "start_dt"], name="service_order_start_idx"),
            models.Index(fields=["start_dt", "end_dt"], name="service_dates_idx"),
            models.Index(fields=["supplier", "start_dt"], name="service_supplier_start_idx"),
            models.Index(fields=["start_dt", "id"], name="service_start_id_idx"),  # «Сегодня»: missing data
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=[choice.value for choice in ServiceType]), name="service_type_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in ServiceStatus]), name="service_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(end_dt__gte=models.F("start_dt")), name="service_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0) & models.Q(commission__gte=0) & models.Q(rate__gt=0),
                name="service_money_not_negative",
            ),
            models.CheckConstraint(
                condition=(models.Q(cost__isnull=True) | models.Q(cost__gte=0)) & models.Q(cost_rate__gt=0),
                name="service_cost_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(offer_option__in=OfferOption.values)
                & (models.Q(alternative_of__isnull=True) | models.Q(offer_option=OfferOption.ALTERNATIVE)),
                name="service_offer_option_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def kind_label(self) -> str:
        return EVENT_KIND_LABELS.get(self.kind, "Событие")

    @property
    def is_transport(self) -> bool:
        return self.type in TRANSPORT_TYPES

    @property
    def arrival_timezone(self) -> str:
        return self.end_timezone or self.timezone

    @property
    def title(self) -> str:
        """A short human title for lists and the timeline, built from the type-specific details."""
        details = self.details or {}
        label = ServiceType(self.type).label if self.type in ServiceType.values else self.type
        if self.type == ServiceType.FLIGHT:
            head = " ".join(filter(None, [details.get("carrier", ""), details.get("flight_number", "")]))
        elif self.type == ServiceType.RAIL:
            head = f"Поезд {details.get('train_number', '')}".strip()
        elif self.type == ServiceType.HOTEL:
            head = details.get("hotel_name", "")
        elif self.type == ServiceType.LOCAL:
            head = details.get("title", "")
        else:
            head = details.get("vehicle", "") or str(label)
        route = f"{self.origin} → {self.destination}" if self.is_transport and (self.origin or self.destination) else ""
        place = self.city if not self.is_transport else ""
        return " · ".join(filter(None, [str(head or label), route, place]))


# --- What we owe suppliers -------------------------------------------------------------------------

# Orders whose money is real: clients owe their balance and we owe suppliers their cost. A draft is
# an offer (no payments are taken on it, docs/user/accountant.md), a cancelled order owes nothing.
SETTLED_STATUSES = ("confirmed", "paid", "completed")


class SupplierBalance(models.Model):
    """Our settlement with one supplier on one order, in the order's currency.

    `cost` is the net cost of the supplier's active services while the order is confirmed, paid or
    completed (kept by the orders services), `paid` what we paid it net of its refunds (kept by
    finance), `balance` = cost − paid: what we still owe (negative: the supplier owes us). The
    supplier reports read this table, so they never add up services and payments row by row.
    """

    order = models.ForeignKey(Order, verbose_name=_("заказ"), on_delete=models.CASCADE,
                              related_name="supplier_balances")
    supplier = models.ForeignKey(Supplier, verbose_name=_("поставщик"), on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="balances")
    cost = models.DecimalField(_("начислено"), default=0, **MONEY)
    paid = models.DecimalField(_("оплачено"), default=0, **MONEY)
    balance = models.DecimalField(_("долг"), default=0, **MONEY)
    due_date = models.DateField(_("срок оплаты"), null=True, blank=True)
    # The order's currency, copied when the row is written (it cannot change once the order has services):
    # the supplier debts report's totals per currency add up this table alone, without joining the orders.
    currency = models.CharField(_("валюта"), max_length=3, editable=False)

    class Meta:
        verbose_name = _("расчёты с поставщиком по заказу")
        verbose_name_plural = _("расчёты с поставщиками по заказам")
        constraints = [
            models.UniqueConstraint(fields=["order", "supplier"], nulls_distinct=False,
                                    name="supplierbalance_order_supplier_uniq"),
        ]
        indexes = [
            models.Index(fields=["supplier", "due_date", "order"], condition=~models.Q(balance=0),
                         name="supplierbalance_debt_idx"),
            models.Index(fields=["due_date", "order"], condition=~models.Q(balance=0),
                         name="supplierbalance_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order} / {self.supplier or _('без поставщика')}: {self.balance}"


# --- Timeline events -------------------------------------------------------------------------------


# Russian names of the timeline's event kinds (finance and documents write theirs here too).
EVENT_KIND_LABELS = {
    "created": "Создание",
    "lead_converted": "Из заявки",
    "status_changed": "Смена статуса",
    "service_added": "Услуга добавлена",
    "service_changed": "Услуга изменена",
    "service_cancelled": "Услуга отменена",
    "service_deleted": "Услуга удалена",
    "payment": "Оплата",
    "refund": "Возврат",
    "payment_changed": "Платёж изменён",
    "payment_deleted": "Платёж удалён",
    "document_generated": "Документ сформирован",
    "document_sent": "Документ отправлен",
    "document_signed": "Документ подписан",
    "paid_override": "Оплачен с долгом",
    "message_sent": "Сообщение клиенту",
}


class OrderEvent(models.Model):
    """A business event on the order's timeline (created, confirmed, service added, payment, document)."""

    order = models.ForeignKey(Order, verbose_name=_("заказ"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("вид"), max_length=40)
    title = models.CharField(_("заголовок"), max_length=300)
    data = models.JSONField(_("данные"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("когда"), default=timezone.now)

    class Meta:
        verbose_name = _("событие заказа")
        verbose_name_plural = _("события заказа")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["order", "occurred_at"], name="orderevent_order_time_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def kind_label(self) -> str:
        return EVENT_KIND_LABELS.get(self.kind, "Событие")
