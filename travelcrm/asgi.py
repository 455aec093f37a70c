import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "travelcrm.settings")
application = get_asgi_application()

# Web requests only: a runaway query answers 503 instead of holding a worker (see wsgi.py).
from apps.core.db import enable_statement_timeout  # noqa: E402 - needs the configured settings

enable_statement_timeout()
