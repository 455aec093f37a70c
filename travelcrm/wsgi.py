import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "travelcrm.settings")
application = get_wsgi_application()

# Web requests only (gunicorn, runserver): a runaway query answers 503 instead of holding a worker.
from apps.core.db import enable_statement_timeout  # noqa: E402 - needs the configured settings

enable_statement_timeout()
