"""manage.py reprocess_inbox [--channel C] [--id N ...] [--limit N] [--max-attempts N] — retry pending/failed items."""

from django.core.management.base import BaseCommand

from apps.integrations.inbox import inbox_reprocess
from apps.integrations.models import Channel


class Command(BaseCommand):
    help = "Повторно обработать входящие сообщения со статусом «ожидает» или «ошибка»."

    def add_arguments(self, parser):
        parser.add_argument("--channel", choices=Channel.values)
        parser.add_argument("--id", type=int, action="append", dest="ids")
        parser.add_argument("--limit", type=int, default=500)
        parser.add_argument(
            "--max-attempts",
            type=int,
            default=20,
            help="пропускать сообщения, уже упавшие столько раз (0 — без предела)",
        )

    def handle(self, *args, channel=None, ids=None, limit=500, max_attempts=20, **options):
        counts = inbox_reprocess(ids=ids, channel=channel, limit=limit, max_attempts=max_attempts)
        summary = ", ".join(f"{status}={count}" for status, count in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"reprocess_inbox: {summary}")
