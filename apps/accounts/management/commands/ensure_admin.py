"""Create the first administrator if there is none (ADMIN_EMAIL / ADMIN_PASSWORD, or generated once)."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.accounts.models import User


class Command(BaseCommand):
    help = "Создать администратора, если его ещё нет (ADMIN_EMAIL / ADMIN_PASSWORD)."

    def handle(self, *args, **options):
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("Администратор уже есть — вход с прежними данными.")
            return
        email = settings.ADMIN_EMAIL.strip().lower()
        password = settings.ADMIN_PASSWORD or secrets.token_urlsafe(12)
        User.objects.create_superuser(email=email, password=password, full_name="Администратор")
        shown = "(из ADMIN_PASSWORD)" if settings.ADMIN_PASSWORD else password
        # Printed once, to the operator's terminal (stdout), never to the log.
        self.stdout.write(self.style.SUCCESS(f"Создан администратор: {email} / пароль: {shown}"))
