"""Refresh the admin screenshots of the manager's guide (docs/user/img/*.png).

    manage.py load_demo_data && manage.py screenshots        (or: make screenshots)

Serves this project on 127.0.0.1 in a thread (the configured database: the demo data), logs in as
the demo manager in Debian's Chromium (1366×768, ru-RU; Playwright drives /usr/bin/chromium and
never downloads a browser) and saves one PNG per page of the guide.
"""

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management.base import BaseCommand, CommandError
from django.test.testcases import LiveServerThread

from apps.leads.models import Lead
from apps.orders.models import Order

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


def _pages() -> list[tuple[str, str]]:
    lead = Lead.objects.order_by("-id").first()
    order = Order.objects.filter(services__isnull=False).order_by("-id").first()
    pages = [("today", "/admin/"), ("leads", "/admin/leads/lead/"), ("lead-add", "/admin/leads/lead/add/")]
    if lead:
        pages.append(("lead", f"/admin/leads/lead/{lead.pk}/change/"))
    if order:
        pages += [("order", f"/admin/orders/order/{order.pk}/change/"),
                  ("client", f"/admin/clients/client/{order.client_id}/change/")]
    pages += [("search", "/admin/search/?q=смирнов"), ("reminder", "/admin/workplace/reminder/add/")]
    return pages


class Command(BaseCommand):
    help = "Обновить снимки экрана админки для руководства менеджера (docs/user/img/)."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="operator@demo.travelcrm")
        parser.add_argument("--password", default="", help="По умолчанию — пароль демо-данных.")
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "user" / "img"))

    def handle(self, *args, **options):
        if not os.path.exists(CHROMIUM):
            raise CommandError("Нет Chromium: apt-get install -y chromium")
        from apps.accounts.demo import DEMO_PASSWORD

        password = options["password"] or DEMO_PASSWORD
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        pages = _pages()
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)  # static files from the finders
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise CommandError(f"Сервер не запустился: {server.error}")
        base = f"http://127.0.0.1:{server.port}"
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        try:
            self._shoot(base, options["email"], password, pages, out)
        finally:
            server.terminate()

    def _shoot(self, base, email, password, pages, out):
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
            context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU",
                                          timezone_id="Europe/Moscow")
            page = context.new_page()
            page.goto(f"{base}/admin/login/?next=/admin/")
            page.fill("#id_username", email)
            page.fill("#id_password", password)
            page.click("input[type=submit]")
            if "/login/" in page.url:
                raise CommandError(f"Не удалось войти как {email}: загрузите демо-данные (manage.py load_demo_data).")
            for name, path in pages:
                page.goto(base + path)
                target = out / f"{name}.png"
                page.screenshot(path=str(target))
                self.stdout.write(f"{target}")
            browser.close()
