"""manage.py fetch_rates [--date D] [--from D --to D]: store the Central Bank's daily rates."""

from datetime import date, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.finance.cbr import RatesFeedError
from apps.finance.services import rates_fetch

MAX_DAYS = 366


def parse_date(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 — a plain calendar date
        except ValueError:
            continue
    raise CommandError(f"Неверная дата «{text}»: ожидается ГГГГ-ММ-ДД или ДД.ММ.ГГГГ.")


class Command(BaseCommand):
    help = "Загрузить курсы валют ЦБ РФ на дату или за период (по умолчанию — на сегодня)."

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="on_date", help="дата (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)")
        parser.add_argument("--from", dest="date_from", help="начало периода")
        parser.add_argument("--to", dest="date_to", help="конец периода (включительно)")

    def handle(self, *args, on_date=None, date_from=None, date_to=None, **options):
        dates = self._dates(on_date, date_from, date_to)
        try:
            result = rates_fetch(dates=dates)
        except RatesFeedError as error:
            raise CommandError(f"Курсы не загружены, ничего не сохранено: {error}") from None
        for asked, answered in sorted(result.bank_dates.items()):
            note = "" if asked == answered else f" (ЦБ ответил курсами на {answered:%d.%m.%Y})"
            self.stdout.write(f"{asked:%d.%m.%Y}: загружено{note}")
        self.stdout.write(self.style.SUCCESS(
            f"Готово: новых {result.created}, обновлено {result.updated}, без изменений {result.unchanged}."
        ))

    def _dates(self, on_date, date_from, date_to) -> list[date]:
        if on_date and (date_from or date_to):
            raise CommandError("Укажите либо --date, либо --from/--to.")
        if on_date:
            return [parse_date(on_date)]
        if bool(date_from) != bool(date_to):
            raise CommandError("Период задаётся обоими параметрами: --from и --to.")
        if not date_from:
            return [timezone.localdate()]
        start, end = parse_date(date_from), parse_date(date_to)
        if end < start:
            raise CommandError("Конец периода раньше начала.")
        days = (end - start).days + 1
        if days > MAX_DAYS:
            raise CommandError(f"Слишком длинный период: не больше {MAX_DAYS} дней за раз.")
        return [start + timedelta(days=offset) for offset in range(days)]
