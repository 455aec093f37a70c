"""manage.py telegram_poll [--bot ID] [--once] — getUpdates for installations without a public URL.

Runs a bounded loop (--duration seconds, default 55: fits a once-a-minute schedule) of long polls;
--once makes one short poll per bot (tests, cron). Offsets are stored per bot, so an update is
confirmed to Telegram only after it was stored in the inbox.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from apps.integrations.errors import ChannelError
from apps.integrations.models import IntegrationSettings, IntegrationType
from apps.integrations.telegram.polling import poll_once


class Command(BaseCommand):
    help = "Получить обновления Telegram-ботов через getUpdates (режим без вебхука)."

    def add_arguments(self, parser):
        parser.add_argument("--bot", type=int, help="ID интеграции бота (по умолчанию — все активные боты)")
        parser.add_argument("--once", action="store_true", help="один короткий опрос и выход")
        parser.add_argument("--duration", type=int, default=55, help="сколько секунд опрашивать")
        parser.add_argument("--poll-timeout", type=int, default=10, help="таймаут long polling, секунд")

    def handle(self, *args, bot=None, once=False, duration=55, poll_timeout=10, **options):
        bots = IntegrationSettings.objects.filter(type=IntegrationType.TELEGRAM)
        bots = bots.filter(pk=bot) if bot else bots.filter(is_active=True)
        bots = list(bots)
        if bot and not bots:
            raise CommandError(f"Telegram-бот {bot} не найден.")
        deadline = time.monotonic() + max(duration, 0)
        timeout = 0 if once else max(0, min(poll_timeout, 50)) if len(bots) == 1 else 0
        while True:
            for integration in bots:
                try:
                    counts = poll_once(integration=integration, timeout=timeout)
                except ChannelError as error:
                    self.stderr.write(f"bot {integration.pk}: {error.detail}")
                    continue
                if counts["received"] or once:
                    self.stdout.write(f"bot {integration.pk}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
            if once or time.monotonic() >= deadline:
                break
            if timeout == 0:
                time.sleep(1)
