"""Create the first administrator if there is none (credentials from env or generated once)."""

import os
import secrets

from django.core.management.base import BaseCommand

from apps.accounts.models import User


class Command(BaseCommand):
    help = "Создать администратора, если его ещё нет (ADMIN_EMAIL / ADMIN_INITIAL_PASSWORD)."

    def handle(self, *args, **options):
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("Администратор уже есть — вход с прежними данными.")
            return
        email = os.environ.get("ADMIN_EMAIL", "admin@example.com").lower()
        password = os.environ.get("ADMIN_INITIAL_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(email=email, password=password, full_name="Администратор")
        shown = password if not os.environ.get("ADMIN_INITIAL_PASSWORD") else "(из ADMIN_INITIAL_PASSWORD)"
        # Printed once, to the operator's terminal (stdout), never to the log.
        self.stdout.write(self.style.SUCCESS(f"Создан администратор: {email} / пароль: {shown}"))
