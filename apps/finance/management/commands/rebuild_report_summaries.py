"""manage.py rebuild_report_summaries: the reports' summaries again from every order and service.

The triggers keep them on every write; rebuild after changing TIME_ZONE (the functions hold the
zone), after loading data with triggers off (session_replication_role = replica, as the benches
seed), or to check them: --check compares without writing.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.finance.queries import report_summary_check, report_summary_install, report_summary_rebuild


class Command(BaseCommand):
    help = "Пересчитать сводки отчётов (продажи, клиенты, долги, комиссии) по всем заказам и услугам."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="только сравнить сводки с пересчётом, ничего не меняя")

    def handle(self, *args, check: bool = False, **options):
        if check:
            differences = report_summary_check()
            if differences:
                raise CommandError("Сводки расходятся с пересчётом: " + ", ".join(
                    f"{table}: {count}" for table, count in differences.items()))
            self.stdout.write("Сводки совпадают с пересчётом.")
            return
        with transaction.atomic():
            report_summary_install()
            report_summary_rebuild()
        self.stdout.write("Сводки отчётов пересчитаны.")
