"""manage.py poll_mailbox [--integration ID] — take new e-mails of the active mailboxes into leads."""

from django.core.management.base import BaseCommand, CommandError

from apps.integrations.email.handlers import mailbox_poll
from apps.integrations.errors import ChannelError
from apps.integrations.models import IntegrationSettings, IntegrationType


class Command(BaseCommand):
    help = "Забрать новые письма из почтовых ящиков (IMAP) и превратить их в заявки."

    def add_arguments(self, parser):
        parser.add_argument("--integration", type=int, help="ID интеграции (по умолчанию — все активные ящики)")
        parser.add_argument("--limit", type=int, default=200, help="не больше писем за один запуск на ящик")

    def handle(self, *args, integration=None, limit=200, **options):
        mailboxes = IntegrationSettings.objects.filter(type=IntegrationType.EMAIL)
        mailboxes = mailboxes.filter(pk=integration) if integration else mailboxes.filter(is_active=True)
        if integration and not mailboxes.exists():
            raise CommandError(f"Почтовая интеграция {integration} не найдена.")
        failures = 0
        for mailbox in mailboxes:
            try:
                counts = mailbox_poll(integration=mailbox, limit=limit)
            except ChannelError as error:
                failures += 1
                self.stderr.write(f"mailbox {mailbox.pk}: {error.detail}")
                continue
            self.stdout.write(f"mailbox {mailbox.pk}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        if failures:
            raise CommandError(f"{failures} mailbox(es) failed")
