"""manage.py worker — run background jobs (replies, media downloads, mail polling, rates, backups).

Start as many as you like, on as many machines as share the database; each takes jobs with
`SELECT ... FOR UPDATE SKIP LOCKED`, so no job runs twice at once.
"""

from django.core.management.base import BaseCommand

from apps.jobs.worker import lower_priority, run_worker


class Command(BaseCommand):
    help = "Запускает обработчик фоновых задач (ответы клиентам, загрузка файлов, почта, курсы, резервные копии)."

    def add_arguments(self, parser):
        parser.add_argument("--queues", default="", help="Очереди через запятую (по умолчанию все).")
        parser.add_argument("--concurrency", type=int, default=None, help="Задач одновременно (WORKER_CONCURRENCY).")
        parser.add_argument("--once", action="store_true", help="Выполнить ждущие задачи и выйти.")
        parser.add_argument(
            "--no-schedules", action="store_true", help="Не ставить периодические задачи (их ставит другой обработчик)."
        )
        parser.add_argument("--name", default=None, help="Имя обработчика в журнале и в админке.")

    def handle(self, *args, **options):
        lower_priority()  # WORKER_NICE: beside gunicorn, the web requests go first
        queues = [q.strip() for q in options["queues"].split(",") if q.strip()] or None
        run_worker(
            queues=queues,
            concurrency=options["concurrency"],
            once=options["once"],
            schedules=not options["no_schedules"],
            name=options["name"],
        )
