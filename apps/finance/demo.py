"""Demo finance data: the agency's requisites (valid checksums), rates for the last 60 days (entered
as manual — the demo has no connection to the bank) and payments for the orders app's demo orders.

Idempotent: requisites are created once, rates are upserted, demo payments are recognised by their
comment and made once per order.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.finance.models import AgencyRequisites, CurrencyRate, Payment, RateSource
from apps.finance.services import payment_create, requisites_save

DEMO_REQUISITES = {
    "legal_name": "Общество с ограниченной ответственностью «Солнечный Ветер Тревел»",
    "short_name": "ООО «Солнечный Ветер Тревел»",
    "inn": "7701234560",
    "kpp": "770101001",
    "ogrn": "1167746123456",
    "address": "125009, г. Москва, ул. Тверская, д. 7, офис 12",
    "bank_name": "ПАО Сбербанк",
    "bank_city": "г. Москва",
    "bik": "044525225",
    "account": "40702810200000012345",
    "corr_account": "30101810400000000225",
    "director_name": "Соколова Елена Викторовна",
    "accountant_name": "Морозов Андрей Павлович",
    "vat_mode": "usn",
}
# Rubles per unit around which the demo rates move a little day by day.
DEMO_RATES = {"USD": "92.50", "EUR": "100.30", "CNY": "12.75", "TRY": "2.71", "AED": "25.18", "THB": "2.62"}
DEMO_DAYS = 60
MARK = "Демо-платёж"
DEMO_PAYER = {
    "payer_kind": "other",
    "payer_name": "ООО «Ромашка» (оплата за сотрудника)",
    "payer_inn": "7707083893",
    "payer_account": "40702810800000054321",
    "payer_bank_name": "ПАО Сбербанк",
    "payer_bik": "044525225",
    "payer_corr_account": "30101810400000000225",
}


def _requisites(stdout) -> None:
    if AgencyRequisites.objects.exists():
        return
    requisites_save(data=DEMO_REQUISITES)
    stdout.write("  реквизиты агентства созданы")


def _rates(stdout) -> None:
    today = timezone.localdate()
    created = 0
    for offset in range(DEMO_DAYS + 1):
        day = today - timedelta(days=offset)
        wobble = Decimal(offset % 7 - 3) / Decimal(200)  # ±1.5 % over a week, deterministic
        for currency, base in DEMO_RATES.items():
            rate = (Decimal(base) * (1 + wobble)).quantize(Decimal("0.0001"))
            _, was_created = CurrencyRate.objects.get_or_create(
                date=day, currency=currency, source=RateSource.MANUAL, defaults={"rate": rate, "nominal": 1}
            )
            created += was_created
    if created:
        stdout.write(f"  курсы валют (демо, вручную): добавлено {created}")


def _payments(stdout) -> None:
    from apps.orders.models import Order

    today = timezone.localdate()
    made = 0
    # Payments are taken on confirmed orders only (docs/user/accountant.md): drafts are skipped.
    demo_orders = Order.objects.filter(notes__startswith="Демо").exclude(status__in=("cancelled", "draft"))
    for order in demo_orders.order_by("id"):
        if Payment.objects.filter(order=order, comment__startswith=MARK).exists() or order.total_amount <= 0:
            continue
        half = (order.total_amount / 2).quantize(Decimal("0.01"))
        payment_create(order_id=order.pk, data={
            "amount": half, "date": today - timedelta(days=3), "method": "bank_transfer",
            "bank_doc_number": str(100 + order.pk), "bank_doc_date": today - timedelta(days=4),
            "comment": f"{MARK}: предоплата 50 %", **DEMO_PAYER,
        })
        if order.currency == "RUB":
            payment_create(order_id=order.pk, data={
                "amount": Decimal("100.00"), "currency": "USD", "date": today - timedelta(days=1),
                "method": "cash", "comment": f"{MARK}: доплата наличными в долларах по курсу дня",
            })
        made += 1
    if made:
        stdout.write(f"  демо-платежи: заказов с оплатами {made}")


def load_demo(stdout) -> None:
    _requisites(stdout)
    _rates(stdout)
    _payments(stdout)
