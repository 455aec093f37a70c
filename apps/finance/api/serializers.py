"""Shapes of the finance API: serializers check shape only; services hold the rules."""

from rest_framework import serializers

from apps.core.masking import mask_name, mask_requisite
from apps.core.money import CURRENCIES
from apps.finance.models import (
    AgencyRequisites,
    CurrencyRate,
    PayerKind,
    Payment,
    PaymentMethod,
    PaymentType,
    SupplierPayment,
    SupplierPaymentType,
)
from apps.finance.reports import COMMISSION_DIMENSIONS
from travelcrm.api import BaseModelSerializer, StrictBooleanField, StrictCharField

RATE_FIELD = {"max_digits": 20, "decimal_places": 10}


class AgencyRequisitesSerializer(BaseModelSerializer):
    class Meta:
        model = AgencyRequisites
        fields = [
            "legal_name", "short_name", "inn", "kpp", "ogrn", "address", "bank_name", "bank_city", "bik",
            "account", "corr_account", "director_name", "accountant_name", "vat_mode", "vat_rate", "updated_at",
        ]
        read_only_fields = ["updated_at"]
        # Field rules (checksums, account keys) run once, in the model's full_clean (the service).
        extra_kwargs = {name: {"validators": []} for name in ("inn", "kpp", "ogrn", "bik", "account", "corr_account")}


class CurrencyRateSerializer(BaseModelSerializer):
    currency = StrictCharField(max_length=3)
    rate = serializers.DecimalField(help_text="Рублей за `nominal` единиц валюты.", **RATE_FIELD)
    confirm = StrictBooleanField(
        required=False, write_only=True, default=False,
        help_text="Подтвердить курс, отличающийся от курса ЦБ больше чем в 10 раз (иначе 400 rate_outlier).",
    )

    class Meta:
        model = CurrencyRate
        fields = ["id", "date", "bank_date", "currency", "nominal", "rate", "source", "created_at", "confirm"]
        read_only_fields = ["id", "bank_date", "source", "created_at"]
        # A hand-made rate beside the bank's of the same day is allowed (the service keeps one per source);
        # the model's (date, currency, source) check would compare it with the bank's row by the default source.
        validators = []


class OrderBalanceSerializer(serializers.Serializer):
    currency = StrictCharField()
    total_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    refunded_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance_due = serializers.DecimalField(max_digits=14, decimal_places=2)
    warnings = serializers.ListField(child=serializers.DictField())


PERSONAL_DATA_PERMISSION = "clients.view_personal_data"


def sees_personal_data(context: dict) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.has_perm(PERSONAL_DATA_PERMISSION))


def mask_counterparty(data: dict, prefix: str) -> dict:
    """The payer's (supplier's) name, INN and account masked for roles without clients.view_personal_data."""
    for suffix, mask in (("name", mask_name), ("inn", mask_requisite), ("account", mask_requisite)):
        key = f"{prefix}_{suffix}"
        if key in data:
            data[key] = mask(data[key])
    return data


class MaskedPersonalDataMixin:
    personal_prefix = "payer"

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return data if sees_personal_data(self.context) else mask_counterparty(data, self.personal_prefix)


class PaymentSerializer(MaskedPersonalDataMixin, serializers.ModelSerializer):
    """Read and write. On write `rate` is optional: given — a manual rate; omitted — the stored bank rate."""

    order_number = StrictCharField(source="order.number", read_only=True)
    order_balance = OrderBalanceSerializer(source="order", read_only=True)
    payer_client_name = serializers.SerializerMethodField()
    created_by_name = StrictCharField(source="created_by.full_name", read_only=True, default="")
    currency = StrictCharField(max_length=10, required=False)
    rate = serializers.DecimalField(required=False, allow_null=True, min_value=None, **RATE_FIELD)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    type = serializers.ChoiceField(choices=PaymentType.choices, required=False)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    payer_kind = serializers.ChoiceField(choices=PayerKind.choices, required=False)
    date = serializers.DateField(required=False)

    class Meta:
        model = Payment
        fields = [
            "id", "order", "order_number", "type", "method", "amount", "currency", "rate", "rate_is_manual",
            "amount_in_order_currency", "date", "time", "payer_kind", "payer_client", "payer_client_name",
            "payer_name", "payer_inn", "payer_kpp", "payer_account", "payer_bank_name", "payer_bik",
            "payer_corr_account", "bank_doc_number", "bank_doc_date", "comment", "created_by", "created_by_name",
            "created_at", "updated_at", "order_balance",
        ]
        read_only_fields = ["rate_is_manual", "amount_in_order_currency", "created_by", "created_at", "updated_at"]
        extra_kwargs = {
            "order": {"required": False},
            **{name: {"validators": []} for name in ("payer_inn", "payer_kpp", "payer_account", "payer_bik",
                                                     "payer_corr_account", "bank_doc_number")},
        }

    def get_payer_client_name(self, payment) -> str:
        return payment.payer_client.full_name if payment.payer_client_id else ""

    def validate_currency(self, value: str) -> str:
        return value.strip().upper()


class OrderSupplierBalanceSerializer(serializers.Serializer):
    currency = StrictCharField()
    cost_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    supplier_paid_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    supplier_balance_due = serializers.DecimalField(max_digits=14, decimal_places=2)


class SupplierPaymentSerializer(MaskedPersonalDataMixin, serializers.ModelSerializer):
    """Read and write. `supplier` may be left out when `service` (a service of the order) names it;
    `rate` is optional: given — a manual rate; omitted — the stored bank rate of the date."""

    personal_prefix = "counterparty"
    order_number = StrictCharField(source="order.number", read_only=True)
    supplier_name = StrictCharField(source="supplier.name", read_only=True)
    order_balance = OrderSupplierBalanceSerializer(source="order", read_only=True)
    created_by_name = StrictCharField(source="created_by.full_name", read_only=True, default="")
    currency = StrictCharField(max_length=10, required=False)
    rate = serializers.DecimalField(required=False, allow_null=True, min_value=None, **RATE_FIELD)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    type = serializers.ChoiceField(choices=SupplierPaymentType.choices, required=False)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    date = serializers.DateField(required=False)

    class Meta:
        model = SupplierPayment
        fields = [
            "id", "order", "order_number", "supplier", "supplier_name", "service", "type", "method", "amount",
            "currency", "rate", "rate_is_manual", "amount_in_order_currency", "date", "counterparty_name",
            "counterparty_inn", "counterparty_kpp", "counterparty_account", "counterparty_bank_name",
            "counterparty_bik", "counterparty_corr_account", "bank_doc_number", "bank_doc_date", "comment",
            "created_by", "created_by_name", "created_at", "updated_at", "order_balance",
        ]
        read_only_fields = ["rate_is_manual", "amount_in_order_currency", "created_by", "created_at", "updated_at"]
        extra_kwargs = {
            "order": {"required": False},
            "supplier": {"required": False},
            **{name: {"validators": []} for name in (
                "counterparty_inn", "counterparty_kpp", "counterparty_account", "counterparty_bik",
                "counterparty_corr_account", "bank_doc_number")},
        }

    def validate_currency(self, value: str) -> str:
        return value.strip().upper()


class ReportFilterSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    operator = serializers.IntegerField(required=False, min_value=1)
    client = serializers.IntegerField(required=False, min_value=1)
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False)
    on_date = serializers.DateField(required=False, help_text="fx: дата курса для сравнения (по умолчанию сегодня).")
    group_by = StrictCharField(required=False, help_text="commissions: month,supplier,operator (любые).")
    supplier = serializers.IntegerField(required=False, min_value=1)
    ageing = serializers.ChoiceField(choices=["not_due", "1_30", "31_90", "90_plus"], required=False,
                                     help_text="debts, supplier-debts: одна группа просрочки.")
    by = serializers.ChoiceField(choices=["source", "operator"], required=False,
                                 help_text="funnel: по каналам (source) или по менеджерам (operator).")

    def validate_group_by(self, value: str) -> tuple[str, ...]:
        parts = tuple(part.strip() for part in value.split(",") if part.strip())
        unknown = [part for part in parts if part not in COMMISSION_DIMENSIONS]
        if unknown or not parts:
            raise serializers.ValidationError("Группировка: month, supplier, operator через запятую.")
        return parts

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": ["Конец периода раньше начала."]})
        return attrs


class ExportPeriodSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()

    def validate(self, attrs):
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"to": ["Конец периода раньше начала."]})
        if (attrs["date_to"] - attrs["date_from"]).days > 366:
            raise serializers.ValidationError({"to": ["Выгрузка — не больше чем за год."]})
        return attrs


class StatementParamsSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    currency = serializers.ChoiceField(choices=CURRENCIES, default="RUB")

    def validate(self, attrs):
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"to": ["Конец периода раньше начала."]})
        if (attrs["date_to"] - attrs["date_from"]).days > 731:
            raise serializers.ValidationError({"to": ["Акт сверки — не больше чем за два года."]})
        return attrs
