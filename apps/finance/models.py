"""Models of the finance app: agency requisites, Central Bank rates, payments and refunds."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from apps.core.crypto import EncryptedCharField
from apps.core.money import CURRENCIES
from apps.finance import validators as v

# Encrypted at rest, masked for roles without clients.view_personal_data and in the audit log.
PAYER_PERSONAL_FIELDS = ("payer_name", "payer_inn", "payer_account")
COUNTERPARTY_PERSONAL_FIELDS = ("counterparty_name", "counterparty_inn", "counterparty_account")

RATE_DIGITS = {"max_digits": 20, "decimal_places": 10}
MONEY_DIGITS = {"max_digits": 14, "decimal_places": 2}


class VatMode(models.TextChoices):
    NONE = "none", "Без НДС"
    USN = "usn", "УСН (без НДС)"
    VAT = "vat", "НДС"


class AgencyRequisites(models.Model):
    """The agency's own legal and bank details: one row, edited by supervisors."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    legal_name = models.CharField("полное наименование", max_length=300)
    short_name = models.CharField("краткое наименование", max_length=150)
    inn = models.CharField("ИНН", max_length=12, validators=[v.validate_inn])
    kpp = models.CharField("КПП", max_length=9, blank=True, validators=[v.validate_kpp],
                           help_text="Обязателен для организации (ИНН из 10 цифр).")
    ogrn = models.CharField("ОГРН / ОГРНИП", max_length=15, validators=[v.validate_ogrn])
    address = models.CharField("юридический адрес", max_length=500)
    bank_name = models.CharField("банк", max_length=300)
    bank_city = models.CharField("город банка", max_length=100, blank=True)
    bik = models.CharField("БИК", max_length=9, validators=[v.validate_bik])
    account = models.CharField("расчётный счёт", max_length=20, validators=[v.validate_account_digits])
    corr_account = models.CharField("корреспондентский счёт", max_length=20, validators=[v.validate_account_digits])
    director_name = models.CharField("руководитель", max_length=200)
    accountant_name = models.CharField("главный бухгалтер", max_length=200, blank=True)
    vat_mode = models.CharField("режим НДС", max_length=8, choices=VatMode.choices, default=VatMode.USN)
    vat_rate = models.DecimalField("ставка НДС, %", max_digits=5, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField("изменено", auto_now=True)

    class Meta:
        verbose_name = "реквизиты агентства"
        verbose_name_plural = "реквизиты агентства"
        constraints = [
            models.CheckConstraint(condition=models.Q(singleton=True), name="finance_requisites_single_row"),
        ]

    def __str__(self) -> str:
        return self.short_name or self.legal_name

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if len(self.inn or "") == 10 and not self.kpp:
            errors.setdefault("kpp", []).append("Для организации (ИНН из 10 цифр) КПП обязателен.")
        if len(self.inn or "") == 10 and len(self.ogrn or "") == 15:
            errors.setdefault("ogrn", []).append("У организации ОГРН из 13 цифр; 15 цифр — ОГРНИП предпринимателя.")
        if self.bik and self.account:
            if len(self.bik) == 9 and len(self.account) == 20 and not v.account_matches_bik(self.account, self.bik):
                errors.setdefault("account", []).append(
                    "Расчётный счёт не соответствует БИК: не сходится контрольный ключ. Проверьте счёт и БИК.")
            if len(self.bik) == 9 and len(self.corr_account or "") == 20 and not v.corr_account_matches_bik(
                self.corr_account, self.bik
            ):
                errors.setdefault("corr_account", []).append(
                    "Корреспондентский счёт не соответствует БИК: не сходится контрольный ключ.")
        if self.vat_mode == VatMode.VAT:
            if self.vat_rate is None or not (Decimal("0") < self.vat_rate <= Decimal("100")):
                errors.setdefault("vat_rate", []).append("Для режима НДС укажите ставку больше 0 и не больше 100 %.")
        elif self.vat_rate is not None:
            errors.setdefault("vat_rate", []).append("Ставка НДС указывается только в режиме «НДС».")
        if errors:
            raise ValidationError(errors)


class RateSource(models.TextChoices):
    CBR = "cbr", "ЦБ РФ"
    MANUAL = "manual", "Вручную"


class CurrencyRate(models.Model):
    """Rubles per one unit of a currency on a date (the Central Bank's or entered by hand)."""

    date = models.DateField("дата (запрошенная)", db_index=True)
    bank_date = models.DateField("дата курса по ответу банка", null=True, blank=True)
    currency = models.CharField("валюта", max_length=3, choices=CURRENCIES)
    nominal = models.PositiveIntegerField("номинал", default=1)
    rate = models.DecimalField("курс за 1 единицу, ₽", **RATE_DIGITS,
                               validators=[MinValueValidator(Decimal("0.0000000001"))])
    source = models.CharField("источник", max_length=8, choices=RateSource.choices, default=RateSource.CBR)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="кто ввёл", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("загружено", auto_now_add=True)

    class Meta:
        verbose_name = "курс валюты"
        verbose_name_plural = "курсы валют"
        ordering = ["-date", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["date", "currency", "source"], name="finance_rate_unique_per_source"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="finance_rate_positive"),
            models.CheckConstraint(condition=~models.Q(currency="RUB"), name="finance_rate_not_rub"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.date:%d.%m.%Y}: {self.rate} ₽ ({self.get_source_display()})"


class PaymentType(models.TextChoices):
    PAYMENT = "payment", "Оплата"
    REFUND = "refund", "Возврат"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Наличные"
    CARD = "card", "Банковская карта"
    BANK_TRANSFER = "bank_transfer", "Банковский перевод"
    OTHER = "other", "Другое"


class PayerKind(models.TextChoices):
    CLIENT = "client", "Клиент"
    OTHER = "other", "Другой плательщик"


class Payment(models.Model):
    """A payment for an order, or a refund, with the rate to the order's currency fixed when entered."""

    order = models.ForeignKey("orders.Order", verbose_name="заказ", on_delete=models.PROTECT, related_name="payments")
    type = models.CharField("вид", max_length=10, choices=PaymentType.choices, default=PaymentType.PAYMENT)
    method = models.CharField("способ", max_length=16, choices=PaymentMethod.choices,
                              default=PaymentMethod.BANK_TRANSFER)
    amount = models.DecimalField("сумма", **MONEY_DIGITS, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField("валюта", max_length=3, choices=CURRENCIES, default="RUB")
    rate = models.DecimalField("курс к валюте заказа", **RATE_DIGITS,
                               help_text="Сколько единиц валюты заказа за единицу валюты платежа; "
                                         "фиксируется в момент платежа.")
    rate_is_manual = models.BooleanField("курс введён вручную", default=False)
    amount_in_order_currency = models.DecimalField("сумма в валюте заказа", **MONEY_DIGITS)
    # currency ≠ the order's (both are fixed once the payment exists): the FX differences report reads
    # only these rows through a partial index instead of joining every payment to its order.
    in_other_currency = models.BooleanField("в валюте, отличной от валюты заказа", default=False, editable=False)
    date = models.DateField("дата")
    time = models.TimeField("время", null=True, blank=True)
    payer_kind = models.CharField("плательщик", max_length=8, choices=PayerKind.choices, default=PayerKind.CLIENT)
    payer_client = models.ForeignKey("clients.Client", verbose_name="клиент-плательщик", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="payments")
    # Name, INN and account may identify a person: encrypted, masked for roles without
    # clients.view_personal_data, masked in the audit log (apps.finance.apps).
    payer_name = EncryptedCharField("наименование плательщика", max_length=300, blank=True,
                                    help_text="Для другого плательщика (организации или человека).")
    payer_inn = EncryptedCharField("ИНН плательщика", max_length=12, blank=True, validators=[v.validate_inn])
    payer_kpp = models.CharField("КПП плательщика", max_length=9, blank=True, validators=[v.validate_kpp])
    payer_account = EncryptedCharField("счёт плательщика", max_length=20, blank=True,
                                       validators=[v.validate_account_digits])
    payer_bank_name = models.CharField("банк плательщика", max_length=300, blank=True)
    payer_bik = models.CharField("БИК банка плательщика", max_length=9, blank=True, validators=[v.validate_bik])
    payer_corr_account = models.CharField("корсчёт банка плательщика", max_length=20, blank=True,
                                          validators=[v.validate_account_digits])
    bank_doc_number = models.CharField("номер платёжного поручения", max_length=6, blank=True,
                                       validators=[v.validate_bank_doc_number],
                                       help_text="Из банковской выписки; в файле для 1С это «Номер» документа.")
    bank_doc_date = models.DateField("дата платёжного поручения", null=True, blank=True)
    comment = models.TextField("комментарий", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="кто внёс", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("внесён", auto_now_add=True)
    updated_at = models.DateTimeField("изменён", auto_now=True)

    class Meta:
        verbose_name = "платёж"
        verbose_name_plural = "платежи"
        ordering = ["-date", "-id"]
        permissions = [
            ("view_reports", "Просмотр финансовых отчётов"),
            ("export_payments", "Выгрузка платежей (1С, CSV)"),
        ]
        indexes = [
            models.Index(fields=["date", "id"], name="finance_payment_date_idx"),
            models.Index(fields=["order", "type"], name="finance_payment_order_idx"),
            models.Index(fields=["method", "date"], name="finance_payment_method_idx"),
            models.Index(fields=["date", "id"], condition=models.Q(in_other_currency=True),
                         name="finance_payment_fx_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="finance_payment_amount_positive"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="finance_payment_rate_positive"),
            models.CheckConstraint(condition=models.Q(type__in=PaymentType.values), name="finance_payment_type_valid"),
            models.CheckConstraint(condition=models.Q(method__in=PaymentMethod.values),
                                   name="finance_payment_method_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} № {self.pk} от {self.date:%d.%m.%Y}: {self.amount} {self.currency}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.payer_kind == PayerKind.OTHER and not self.payer_name.strip():
            errors["payer_name"] = ["Укажите наименование плательщика."]
        if self.payer_bik and self.payer_account and not v.account_matches_bik(self.payer_account, self.payer_bik):
            errors["payer_account"] = ["Счёт плательщика не соответствует БИК: не сходится контрольный ключ."]
        bank_document_errors(self, "payer", errors)
        if errors:
            raise ValidationError(errors)


def bank_document_errors(payment, prefix: str, errors: dict) -> None:
    """Rules of the bank document on a payment (client's or supplier's), added to `errors`."""
    inn, kpp = getattr(payment, f"{prefix}_inn") or "", getattr(payment, f"{prefix}_kpp") or ""
    if kpp and len(inn) == 12:
        errors.setdefault(f"{prefix}_kpp", []).append("У ИП и физического лица (ИНН из 12 цифр) КПП нет.")
    if payment.method != PaymentMethod.BANK_TRANSFER and (payment.bank_doc_number or payment.bank_doc_date):
        errors.setdefault("bank_doc_number", []).append("Платёжное поручение указывается только для банковского "
                                                       "перевода.")
    if bool(payment.bank_doc_number) != bool(payment.bank_doc_date):
        errors.setdefault("bank_doc_date", []).append("Укажите и номер, и дату платёжного поручения.")
    if payment.bank_doc_date and payment.date and payment.bank_doc_date > payment.date:
        errors.setdefault("bank_doc_date", []).append("Платёжное поручение не может быть позже даты платежа.")
    if payment.bank_doc_date and payment.date and (payment.date - payment.bank_doc_date).days > 31:
        errors.setdefault("bank_doc_date", []).append(
            "Платёжное поручение старше платежа больше чем на месяц: проверьте дату.")


class SupplierPaymentType(models.TextChoices):
    PAYMENT = "payment", "Оплата поставщику"
    REFUND = "refund", "Возврат от поставщика"


class SupplierPayment(models.Model):
    """Money to a supplier for an order (or back from it), with the rate to the order's currency fixed
    when entered — the supplier's half of the books (what we owe tour operators, hotels, carriers)."""

    order = models.ForeignKey("orders.Order", verbose_name="заказ", on_delete=models.PROTECT,
                              related_name="supplier_payments")
    supplier = models.ForeignKey("orders.Supplier", verbose_name="поставщик", on_delete=models.PROTECT,
                                 related_name="payments")
    # Deleting a service keeps its payments (on the order and supplier): the database sets this link
    # to NULL (ON DELETE SET NULL, migration 0003), so the orders app's delete needs no extra query.
    service = models.ForeignKey("orders.Service", verbose_name="услуга", null=True, blank=True,
                                on_delete=models.DO_NOTHING, db_constraint=False, related_name="supplier_payments",
                                help_text="Необязательно: за какую услугу заказа.")
    type = models.CharField("вид", max_length=10, choices=SupplierPaymentType.choices,
                            default=SupplierPaymentType.PAYMENT)
    method = models.CharField("способ", max_length=16, choices=PaymentMethod.choices,
                              default=PaymentMethod.BANK_TRANSFER)
    amount = models.DecimalField("сумма", **MONEY_DIGITS, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField("валюта", max_length=3, choices=CURRENCIES, default="RUB")
    rate = models.DecimalField("курс к валюте заказа", **RATE_DIGITS,
                               help_text="Сколько единиц валюты заказа за единицу валюты платежа; "
                                         "фиксируется в момент платежа.")
    rate_is_manual = models.BooleanField("курс введён вручную", default=False)
    amount_in_order_currency = models.DecimalField("сумма в валюте заказа", **MONEY_DIGITS)
    date = models.DateField("дата")
    counterparty_name = EncryptedCharField("наименование поставщика в платёжке", max_length=300, blank=True,
                                           help_text="Пусто — полное наименование поставщика из справочника.")
    counterparty_inn = EncryptedCharField("ИНН поставщика", max_length=12, blank=True,
                                          validators=[v.validate_inn])
    counterparty_kpp = models.CharField("КПП поставщика", max_length=9, blank=True, validators=[v.validate_kpp])
    counterparty_account = EncryptedCharField("расчётный счёт поставщика", max_length=20, blank=True,
                                              validators=[v.validate_account_digits])
    counterparty_bank_name = models.CharField("банк поставщика", max_length=300, blank=True)
    counterparty_bik = models.CharField("БИК банка поставщика", max_length=9, blank=True,
                                        validators=[v.validate_bik])
    counterparty_corr_account = models.CharField("корсчёт банка поставщика", max_length=20, blank=True,
                                                 validators=[v.validate_account_digits])
    bank_doc_number = models.CharField("номер платёжного поручения", max_length=6, blank=True,
                                       validators=[v.validate_bank_doc_number],
                                       help_text="Наша платёжка поставщику (или его — при возврате).")
    bank_doc_date = models.DateField("дата платёжного поручения", null=True, blank=True)
    comment = models.TextField("комментарий", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="кто внёс", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("внесён", auto_now_add=True)
    updated_at = models.DateTimeField("изменён", auto_now=True)

    class Meta:
        verbose_name = "платёж поставщику"
        verbose_name_plural = "платежи поставщикам"
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["supplier", "date", "id"], name="finance_suppay_supplier_idx"),
            models.Index(fields=["order", "supplier"], name="finance_suppay_order_idx"),
            models.Index(fields=["date", "id"], name="finance_suppay_date_idx"),
            models.Index(fields=["method", "date"], name="finance_suppay_method_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="finance_suppay_amount_positive"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="finance_suppay_rate_positive"),
            models.CheckConstraint(condition=models.Q(type__in=SupplierPaymentType.values),
                                   name="finance_suppay_type_valid"),
            models.CheckConstraint(condition=models.Q(method__in=PaymentMethod.values),
                                   name="finance_suppay_method_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} № {self.pk} от {self.date:%d.%m.%Y}: {self.amount} {self.currency}"

    @property
    def signed_amount_in_order_currency(self) -> Decimal:
        """What the payment does to our debt to the supplier: a payment lowers it, a refund raises it."""
        sign = 1 if self.type == SupplierPaymentType.PAYMENT else -1
        return sign * self.amount_in_order_currency

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if (self.counterparty_bik and self.counterparty_account
                and not v.account_matches_bik(self.counterparty_account, self.counterparty_bik)):
            errors["counterparty_account"] = ["Счёт поставщика не соответствует БИК: не сходится контрольный ключ."]
        bank_document_errors(self, "counterparty", errors)
        if errors:
            raise ValidationError(errors)


class FinanceReport(Payment):
    """Only a place in the admin: the «Отчёты» section (apps.finance.admin_reports), seen by those
    with finance.view_reports (accountants, supervisors). No rows of its own."""

    class Meta:
        proxy = True
        verbose_name = "отчёт"
        verbose_name_plural = "Отчёты"
        default_permissions = ()


# --- Report summaries ------------------------------------------------------------------------------
# Sums of orders and services kept by PostgreSQL triggers in the same transaction as every write of
# an order or a service (apps/finance/queries.py: report_summary_install; docs/development.md,
# «Report summaries»). The reports read them instead of aggregating every order of the period. Each
# figure has a row per local day (kind "d") and per local month (kind "m", day = the month's first
# day): a period is its whole months plus the days at its edges. `month_start` is the month's local
# midnight (what TruncMonth gives). No foreign keys: the rows follow the orders, not the other way.

SUMMARY_MONEY = {"max_digits": 18, "decimal_places": 2, "default": 0}


class SummaryKind(models.TextChoices):
    DAY = "d", "день"
    MONTH = "m", "месяц"


def _summary_operator() -> models.ForeignKey:
    """The orders' manager on a summary row (no constraint, no index of its own)."""
    return models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                             db_index=False, null=True, related_name="+")


class DayOrMonthSummary(models.Model):
    """A summary row of one local day (kind "d") or one month (kind "m", day = its first day)."""

    kind = models.CharField(max_length=1, choices=SummaryKind.choices)
    day = models.DateField()
    month_start = models.DateTimeField()

    class Meta:
        abstract = True


class ReportOrderDay(DayOrMonthSummary):
    """Orders' own totals per (day or month, status, currency, operator)."""

    status = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    operator = _summary_operator()
    orders = models.IntegerField(default=0)
    total_amount = models.DecimalField(**SUMMARY_MONEY)
    paid_amount = models.DecimalField(**SUMMARY_MONEY)
    refunded_amount = models.DecimalField(**SUMMARY_MONEY)
    commission = models.DecimalField(**SUMMARY_MONEY)
    cost_amount = models.DecimalField(**SUMMARY_MONEY)
    margin = models.DecimalField(**SUMMARY_MONEY)
    debt = models.DecimalField(**SUMMARY_MONEY)  # balance_due > 0 of settled orders
    supplier_balance_due = models.DecimalField(**SUMMARY_MONEY)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day", "status", "currency", "operator"],
                                               nulls_distinct=False, name="finance_reportorderday_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} {self.status} {self.currency}"


class ReportClientDay(DayOrMonthSummary):
    """Settled orders per (day or month, client, currency, operator): the clients report."""

    client = models.ForeignKey("clients.Client", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                               related_name="+")
    currency = models.CharField(max_length=3)
    operator = _summary_operator()
    orders = models.IntegerField(default=0)
    turnover = models.DecimalField(**SUMMARY_MONEY)
    paid = models.DecimalField(**SUMMARY_MONEY)  # paid − refunded
    debt = models.DecimalField(**SUMMARY_MONEY)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day", "client", "currency", "operator"],
                                               nulls_distinct=False, name="finance_reportclientday_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} {self.client_id} {self.currency}"


class ReportDebtDay(models.Model):
    """Settled orders that owe (balance_due > 0) per (local due day, currency, operator)."""

    due_day = models.DateField(null=True)
    currency = models.CharField(max_length=3)
    operator = _summary_operator()
    orders = models.IntegerField(default=0)
    balance = models.DecimalField(**SUMMARY_MONEY)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["due_day", "currency", "operator"],
                                               nulls_distinct=False, name="finance_reportdebtday_key")]

    def __str__(self) -> str:
        return f"{self.due_day} {self.currency}"


class ReportSupplierDay(DayOrMonthSummary):
    """Active services of settled orders per (day or month of the order, supplier, operator, currency):
    the commissions report. `orders`: how many orders have such a service (each order has one day)."""

    supplier = models.ForeignKey("orders.Supplier", on_delete=models.DO_NOTHING, db_constraint=False,
                                 db_index=False, null=True, related_name="+")
    operator = _summary_operator()
    currency = models.CharField(max_length=3)
    services = models.IntegerField(default=0)
    orders = models.IntegerField(default=0)
    sales_total = models.DecimalField(**SUMMARY_MONEY)
    commission_total = models.DecimalField(**SUMMARY_MONEY)
    cost_total = models.DecimalField(**SUMMARY_MONEY)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day", "supplier", "operator", "currency"],
                                               nulls_distinct=False, name="finance_reportsupplierday_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} {self.supplier_id} {self.currency}"


class ReportOrderSupplier(models.Model):
    """How many active services each order has per supplier (any status of the order): tells the
    service trigger when an order starts or stops counting for a supplier."""

    order_id = models.BigIntegerField()  # no relation: the row follows the services
    supplier = models.ForeignKey("orders.Supplier", on_delete=models.DO_NOTHING, db_constraint=False,
                                 db_index=False, null=True, related_name="+")
    services = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order_id", "supplier"], nulls_distinct=False,
                                               name="finance_reportordersupplier_key")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.supplier_id}"
