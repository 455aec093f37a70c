"""Seed demo data: each app may provide `apps/<app>/demo.py` with `load_demo(stdout)`.

Idempotent: running it again does not duplicate anything. Apps are loaded in INSTALLED_APPS order
(accounts before clients before orders ...), so later apps can use what earlier ones created.
"""

import importlib

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Загрузить демонстрационные данные (повторный запуск ничего не дублирует)."

    def handle(self, *args, **options):
        for app_config in apps.get_app_configs():
            if not app_config.name.startswith("apps."):
                continue
            try:
                module = importlib.import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{app_config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.load_demo(self.stdout)
