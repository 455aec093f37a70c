"""Settings of the Travel CRM: every value comes from the environment (see .env.example).

Secrets have working defaults only in dev mode (DEBUG=true). With DEBUG off a missing or weak
secret stops the process at start-up with one line naming the variable (house rule 1).
"""

import os
from datetime import timedelta
from pathlib import Path

import environ

from travelcrm.client_address import parse_trusted_proxies
from travelcrm.config_checks import ConfigError, check_production_secrets, fernet_keys

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Development-only values: never used when DEBUG is off (check_production_secrets refuses them).
_DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
_DEV_FERNET_KEY = "ZGV2LWluc2VjdXJlLWZlcm5ldC1rZXktMDEyMzQ1Njc="  # base64 of 32 dev bytes
_DEV_BLIND_INDEX_KEY = "dev-insecure-blind-index-key-0123456789abcdef"


def _secret(name: str, dev_default: str) -> str:
    # An empty value counts as unset (a copied .env.example leaves the secrets empty).
    return env.str(name, default="") or (dev_default if DEBUG else "")


SECRET_KEY = _secret("SECRET_KEY", _DEV_SECRET_KEY)
FIELD_ENCRYPTION_KEY_RAW = _secret("FIELD_ENCRYPTION_KEY", _DEV_FERNET_KEY)
BLIND_INDEX_KEY = _secret("BLIND_INDEX_KEY", _DEV_BLIND_INDEX_KEY)
# While `manage.py rotate_blind_index` recomputes (issue 14): the previous key, accepted by lookups.
BLIND_INDEX_KEY_OLD = env.str("BLIND_INDEX_KEY_OLD", default="")
# The first administrator (manage.py ensure_admin). In dev mode an empty password means
# "generate one and print it once"; with DEBUG off ADMIN_PASSWORD is required and must be strong.
ADMIN_EMAIL = env.str("ADMIN_EMAIL", default="admin@example.com")
# «Открыть сайт» in the admin: the agency's public site; empty = the public request form.
AGENCY_SITE_URL = env.str("AGENCY_SITE_URL", default="")
ADMIN_PASSWORD = env.str("ADMIN_PASSWORD", default="")

try:
    if not DEBUG:
        check_production_secrets(
            secret_key=SECRET_KEY,
            field_encryption_key=FIELD_ENCRYPTION_KEY_RAW,
            blind_index_key=BLIND_INDEX_KEY,
            admin_password=ADMIN_PASSWORD,
            dev_values={_DEV_SECRET_KEY, _DEV_FERNET_KEY, _DEV_BLIND_INDEX_KEY},
        )
    # Several comma-separated keys give MultiFernet: the first encrypts, all decrypt (rotation).
    FIELD_ENCRYPTION_KEY = fernet_keys(FIELD_ENCRYPTION_KEY_RAW)
except ConfigError as error:
    raise SystemExit(f"Configuration error: {error}") from None

# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed: travelcrm/client_address.py.
try:
    TRUSTED_PROXIES = [str(network) for network in parse_trusted_proxies(env.list("TRUSTED_PROXIES", default=[]))]
except ValueError as error:
    raise SystemExit(f"Configuration error: {error}") from None
if "WEBFORM_TRUSTED_PROXIES" in env.ENVIRON:
    raise SystemExit(
        "Configuration error: WEBFORM_TRUSTED_PROXIES is replaced by TRUSTED_PROXIES "
        "(the proxies' addresses or networks, comma-separated)"
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc files, served as our static files
    "django_filters",
    "corsheaders",
    "travelcrm.apps.AxesRussianConfig",  # axes
    "travelcrm.apps.AuditlogRussianConfig",  # auditlog
    "import_export",
    "storages",
    "procrastinate.contrib.django",  # the job queue's tables and admin (before the apps with tasks)
    "apps.core",
    "apps.jobs",
    "apps.accounts",
    "apps.clients",
    "apps.leads",
    "apps.orders",
    "apps.documents",
    "apps.finance",
    "apps.integrations",
    "apps.audit",
    "apps.workplace",  # «Сегодня», reminders, the search box, the client card's history (issue 16)
]

MIDDLEWARE = [
    "travelcrm.logging.RequestIdMiddleware",
    "travelcrm.health.HealthCheckMiddleware",
    "travelcrm.api.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "apps.core.middleware.AdminRussianTitlesMiddleware",  # «Изменить заявку», not «Изменить заявка»
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy (django-csp) for the public pages that set one (the web form: its
    # frame-ancestors); no site-wide policy, every other page has X-Frame-Options: DENY.
    "travelcrm.content_security.PublicPagesCSPMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
    # Personal-data access log (issue 14): one row per request that showed unmasked data.
    "apps.audit.middleware.PersonalDataAccessMiddleware",
]

if not DEBUG:
    # Serves the collected /static/ (admin, Swagger) from gunicorn; runserver does it in dev mode.
    MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                      "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "travelcrm.urls"
WSGI_APPLICATION = "travelcrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# Django's form renderer with labels, inputs, options and empty error lists written in Python (the
# same HTML): admin pages with hundreds of fields or list rows (the order page, action checkboxes).
FORM_RENDERER = "apps.core.forms.FastFormRenderer"

# --- Database: PostgreSQL only -------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/travelcrm")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=5)
# Lists count exactly up to this many rows; above it they show the planner's estimate, flagged as such
# (`count_is_estimate` in the API, «около N» in the admin): an exact count(*) grows with the table.
LIST_EXACT_COUNT_LIMIT = env.int("LIST_EXACT_COUNT_LIMIT", default=10_000)
# The same for a list filtered by ?search= (a common name matches tens of thousands of clients);
# 0 = never count a search that has a next page, show the planner's estimate.
SEARCH_EXACT_COUNT_LIMIT = env.int("SEARCH_EXACT_COUNT_LIMIT", default=0)
# The planner's estimate of a list's rows is reused for this many seconds by each web process
# (apps.core.paging.planner_estimate); 0 = ask PostgreSQL on every page.
LIST_ESTIMATE_CACHE_SECONDS = env.int("LIST_ESTIMATE_CACHE_SECONDS", default=60)
# A query of a web request running longer than this is cancelled by PostgreSQL and the request
# answers 503 query_timeout (apps.core.db; management commands and workers are not limited). 0 = off.
API_STATEMENT_TIMEOUT_MS = env.int("API_STATEMENT_TIMEOUT_MS", default=30_000)
# Reports plan every statement for its own arguments and get this much memory for sorts and hashes.
REPORT_WORK_MEM = env.str("REPORT_WORK_MEM", default="64MB")
# At most this many slow requests (reports, exports, PDF generation, imports) run at once across all
# web processes; the next one answers 503 server_busy at once (apps.core.heavy). 0 = no limit.
# Keep it below the web server's workers × threads so quick requests always find a free worker.
# Default: one per two CPUs this process may run on (at least 1, at most 4): heavy work is CPU-bound
# (its PostgreSQL backend, the CSV/XLSX/PDF it builds) and must leave CPUs to the managers' quick
# requests. bench/heavy_isolation.py on 2 cores, one session: the webhook's / client list's p95 beside
# a loop of heavy reports was 6.2x / 7.6x idle with 4 slots, 2.6x / 1.9x with 2, 1.5x / 1.4x with 1.
HEAVY_REQUEST_SLOTS = env.int("HEAVY_REQUEST_SLOTS", default=max(1, min(len(os.sched_getaffinity(0)) // 2, 4)))
# The nice value added to the forked children that lay out PDFs (apps.documents.rendering): under a
# full CPU the kernel serves the web threads of managers' quick requests first. 0 = same priority.
HEAVY_WORK_NICE = env.int("HEAVY_WORK_NICE", default=10)
# A long reconciliation statement is laid out by groups of pages in this many forked processes at once
# (apps.finance.paged_pdf; WeasyPrint uses one CPU per document). 0 = one per CPU this process may use, at most 4.
STATEMENT_PDF_PROCESSES = env.int("STATEMENT_PDF_PROCESSES", default=0)
if env.bool("DB_PREPARED_STATEMENTS", default=True):
    # Server-side binding lets psycopg prepare a statement once it has run 5 times on a connection,
    # so PostgreSQL stops re-planning the hot queries (the client list's page query spent 1.2 ms
    # in the planner per request). Needs a session-keeping connection: turn it off behind a
    # transaction-pooling PgBouncer.
    DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
# Parallel test runs (several developers, xdist workers) each get their own test database.
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_travelcrm")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and authentication ----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.backends.PermissionBackend",  # ModelBackend + permissions read with the user
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Brute-force protection (django-axes, apps/accounts/lockout.py): 5 failures of one (e-mail, client
# address) pair within 15 minutes lock that pair only, so nobody outside can lock an employee out;
# a much higher ceiling per address stops password spraying. The same counters guard ADMIN_PASSWORD.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=100)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "apps.accounts.lockout.PairLockoutHandler"
# One place computes the client's address (X-Forwarded-For only from TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "travelcrm.client_address.client_ip"
AXES_USERNAME_FORM_FIELD = "email"
AXES_USERNAME_CALLABLE = "apps.accounts.lockout.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout.lockout_response"
AXES_VERBOSE = False
# Successful logins are not written to axes' access log: it would create a session per API login.
AXES_DISABLE_ACCESS_LOG = True

# --- Internationalisation --------------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static files and object storage ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [path for path in [BASE_DIR / "static"] if path.is_dir()]  # empty dirs are not in git

S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="http://127.0.0.1:8333")
S3_BUCKET = env.str("S3_BUCKET", default="travelcrm")
# Stored files (scans, attachments, documents, imports) encrypted by the app before they reach object
# storage (issue 14): AES-256-GCM per object, data keys wrapped by FIELD_ENCRYPTION_KEY.
FILE_ENCRYPTION = env.bool("FILE_ENCRYPTION", default=True)

STORAGES = {
    "default": {
        # django-storages' S3 backend; stored objects get their type from their bytes (apps.core.files).
        "BACKEND": "apps.core.storage.SafeS3Storage",
        "OPTIONS": {
            "endpoint_url": S3_ENDPOINT_URL,
            "bucket_name": S3_BUCKET,
            "access_key": env.str("S3_ACCESS_KEY", default="travelcrm"),
            "secret_key": env.str("S3_SECRET_KEY", default="travelcrm-secret"),
            "region_name": env.str("S3_REGION", default="us-east-1"),
            "addressing_style": "path",
            "signature_version": "s3v4",
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": env.int("DOWNLOAD_URL_TTL_SECONDS", default=900),
            # A public URL for pre-signed links when the API sees S3 under another host name.
            "custom_domain": env.str("S3_PUBLIC_DOMAIN", default="") or None,
            "url_protocol": env.str("S3_PUBLIC_PROTOCOL", default="http:"),
            "client_config": None,
        },
    },
    # Collected into STATIC_ROOT at image build time, served by WhiteNoise.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MAX_UPLOAD_SIZE = env.int("MAX_UPLOAD_SIZE", default=20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Document rendering limits (apps/documents/rendering.py, issue 12) -------------------------------
# Template + layout of one document run in a child process killed after this many seconds; its
# address space may grow by DOCUMENTS_RENDER_MEMORY_MB over the worker's.
DOCUMENTS_RENDER_TIMEOUT_SECONDS = env.float("DOCUMENTS_RENDER_TIMEOUT_SECONDS", default=20.0)
DOCUMENTS_RENDER_MEMORY_BYTES = env.int("DOCUMENTS_RENDER_MEMORY_MB", default=512) * 1024 * 1024

# --- REST API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's JWTAuthentication, loading the user's permissions in the same query.
        "apps.accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["travelcrm.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "travelcrm.pagination.ListPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "travelcrm.filters.FilterBackend",  # django-filter, skipped when no filter parameter is given
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "travelcrm.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "travelcrm.api.ErrorAwareAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

# A sign-in (its family of rotated refresh tokens) ends after this many days whatever the sliding
# JWT_REFRESH_DAYS say (apps/accounts/services.py).
JWT_REFRESH_MAX_DAYS = env.int("JWT_REFRESH_MAX_DAYS", default=30)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    # auth_time (the sign-in, with microseconds) and fam (the token family) pass from a refresh
    # token to its access tokens; apps/accounts/services.py.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Travel CRM API",
    "DESCRIPTION": "REST API of the Travel CRM back office. Authenticate with a JWT access token "
    "from POST /api/v1/auth/token/ (Authorize → Bearer).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    # The documentation pages load Swagger UI and ReDoc from our own static files: they work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {},
    "APPEND_COMPONENTS": {},
    # drf-spectacular's enum hook, naming choice sets that share a field name across apps.
    "POSTPROCESSING_HOOKS": ["travelcrm.openapi.postprocess_schema_enums", "travelcrm.openapi.postprocess_local_times"],
    # Schema warnings are checked by `manage.py spectacular --validate --fail-on-warn` (a test),
    # not by `check --deploy`, which stays about deployment settings.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/v1/public/.*$"

# --- Security (production) -------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Audit -----------------------------------------------------------------------------------------
AUDITLOG_INCLUDE_ALL_MODELS = False

# --- Logging: one JSON object per line, personal data filtered out ---------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "travelcrm.logging.RequestContextFilter"},
        "personal_data": {"()": "travelcrm.logging.PersonalDataFilter"},
    },
    "formatters": {"json": {"()": "travelcrm.logging.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_context", "personal_data"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own loggers write through our handler only: its defaults would print plain lines
        # (DEBUG's console handler; runserver's request lines, which without a handler of their own
        # fell to Python's last-resort stderr printer, query string and all).
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        # Our request log line replaces Django's own "GET /path" lines; 4xx/5xx still come, filtered.
        "django.request": {"level": "ERROR"},
        "django.server": {"handlers": ["stdout"], "level": "WARNING", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # Procrastinate logs every job start and end at INFO; failures and retries are WARNING+.
        "procrastinate": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "weasyprint": {"level": "ERROR"},
    },
}

# Without Docker: LOG_FILE also writes the JSON lines to a file, rotated at LOG_FILE_MAX_BYTES
# keeping LOG_FILE_BACKUPS old files (0 bytes = never rotate here: logrotate does it, see
# docs/logrotate.example). Safe with many processes writing to one file.
LOG_FILE = env.str("LOG_FILE", default="")
LOG_FILE_MAX_BYTES = env.int("LOG_FILE_MAX_BYTES", default=50 * 1024 * 1024)
LOG_FILE_BACKUPS = env.int("LOG_FILE_BACKUPS", default=10)
if LOG_FILE:
    LOGGING["handlers"]["file"] = {
        "()": "travelcrm.logging.SharedRotatingFileHandler",
        "filename": LOG_FILE,
        "maxBytes": LOG_FILE_MAX_BYTES,
        "backupCount": LOG_FILE_BACKUPS,
        "formatter": "json",
        "filters": ["request_context", "personal_data"],
    }
    for logger_config in [LOGGING["root"], *LOGGING["loggers"].values()]:
        if "stdout" in logger_config.get("handlers", []):
            logger_config["handlers"] = [*logger_config["handlers"], "file"]

# --- Background jobs (Procrastinate on the same PostgreSQL; docs/development.md «Jobs») ------------
# Tasks live in each app's tasks.py (autodiscovered). The worker is `manage.py worker`.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"
WORKER_CONCURRENCY = env.int("WORKER_CONCURRENCY", default=4)
# The nice value a `manage.py worker` adds to itself: on a machine it shares with gunicorn, the web
# requests (the Telegram webhook above all) are served first and a reply waits instead. 0 = same
# priority (the default: on the shared 2-core machine, load 15, 10 showed no webhook gain in an
# interleaved A/B — BENCHMARKS.md, issue 15).
WORKER_NICE = env.int("WORKER_NICE", default=0)
# A worker writes a heartbeat every JOB_HEARTBEAT_SECONDS; one silent for JOB_STALLED_SECONDS is
# taken for dead and its running jobs go back to the queue (kill -9, OOM, power loss).
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10.0)
JOB_STALLED_SECONDS = env.float("JOB_STALLED_SECONDS", default=30.0)
# Finished jobs are deleted by default (the table stays small); failed ones stay for the admin.
JOB_DELETE_SUCCESSFUL = env.bool("JOB_DELETE_SUCCESSFUL", default=True)
# /health/ready says "degraded" when the oldest waiting job waits longer than this.
JOB_LAG_DEGRADED_SECONDS = env.float("JOB_LAG_DEGRADED_SECONDS", default=60.0)
# Cron lines (minute hour day month weekday), in UTC: 03:00 in Moscow is "0 0 * * *".
# An empty value switches a schedule off.
JOB_SCHEDULES = {
    "retry_stalled": env.str("JOB_SCHEDULE_RETRY_STALLED", default="* * * * *"),
    "mail_poll": env.str("JOB_SCHEDULE_MAIL_POLL", default="* * * * *"),
    "inbox_retry": env.str("JOB_SCHEDULE_INBOX_RETRY", default="*/10 * * * *"),
    # The replies drain is deferred with each Telegram reply; this run only sweeps up after one that died.
    "reply_drain": env.str("JOB_SCHEDULE_REPLY_DRAIN", default="* * * * *"),
    # The Central Bank publishes at ~15:30 Moscow time (12:30 UTC).
    "cbr_rates": env.str("JOB_SCHEDULE_CBR_RATES", default="0 13 * * *"),
    "backup": env.str("JOB_SCHEDULE_BACKUP", default="30 0 * * *"),
    "sessions_purge": env.str("JOB_SCHEDULE_SESSIONS_PURGE", default="15 1 * * *"),
    # Personal data past its retention term (issue 14; PERSONAL_DATA_RETENTION_DAYS below).
    "personal_data_purge": env.str("JOB_SCHEDULE_PERSONAL_DATA_PURGE", default="45 1 * * *"),
    "exports_purge": env.str("JOB_SCHEDULE_EXPORTS_PURGE", default="50 1 * * *"),
}
# Exports larger than this many rows (reports CSV/XLSX, the 1C file) run as a job that leaves a file
# and a link (apps.jobs.exports); the file is deleted after EXPORT_FILE_DAYS days.
EXPORT_BACKGROUND_ROWS = env.int("EXPORT_BACKGROUND_ROWS", default=50_000)
EXPORT_FILE_DAYS = env.int("EXPORT_FILE_DAYS", default=7)
# Retention terms in days per category (0 keeps forever): `manage.py purge_personal_data [--dry-run]`.
PERSONAL_DATA_RETENTION_DAYS = {
    "inbox_payloads": env.int("RETENTION_INBOX_PAYLOAD_DAYS", default=30),
    "rejected_leads": env.int("RETENTION_REJECTED_LEAD_DAYS", default=180),
    "import_files": env.int("RETENTION_IMPORT_FILE_DAYS", default=1),
    "reply_files": env.int("RETENTION_REPLY_FILE_DAYS", default=1),  # uploads of replies never stored
    "lockout_records": env.int("RETENTION_LOCKOUT_DAYS", default=30),
    "access_log": env.int("RETENTION_ACCESS_LOG_DAYS", default=1095),
}
# A real CSV import of more rows than this runs as a job with a progress bar (API: 202 + job id).
IMPORT_BACKGROUND_ROWS = env.int("IMPORT_BACKGROUND_ROWS", default=5000)
MAIL_POLL_LIMIT = env.int("MAIL_POLL_LIMIT", default=200)  # e-mails taken per mailbox per poll

# --- Backups (manage.py backup / restore; docs/operations.md «Резервные копии») -------------------
# Where: a directory (a mounted NAS / another disk) or a separate S3 bucket — never the data bucket.
BACKUP_DIR = env.str("BACKUP_DIR", default=str(BASE_DIR / "var" / "backups"))
BACKUP_BUCKET = env.str("BACKUP_BUCKET", default="")
if BACKUP_BUCKET:
    BACKUP_DIR = ""
# Public age keys ("age1...", or "ssh-ed25519 ...") the backups are encrypted for. Only the public
# half lives here; the private key is kept off the server (docs/operations.md «Ключи»).
BACKUP_AGE_RECIPIENTS = env.list("BACKUP_AGE_RECIPIENTS", default=[])
# The private key file, read by `manage.py restore` only (or pass --identity).
BACKUP_AGE_IDENTITY_FILE = env.str("BACKUP_AGE_IDENTITY_FILE", default="")
BACKUP_KEEP_DAILY = env.int("BACKUP_KEEP_DAILY", default=7)
BACKUP_KEEP_WEEKLY = env.int("BACKUP_KEEP_WEEKLY", default=4)
BACKUP_KEEP_MONTHLY = env.int("BACKUP_KEEP_MONTHLY", default=12)
# pg_dump / pg_restore of the server's major version; empty = found automatically.
BACKUP_PG_BIN_DIR = env.str("BACKUP_PG_BIN_DIR", default="")
BACKUP_TIMEOUT_SECONDS = env.int("BACKUP_TIMEOUT_SECONDS", default=6 * 3600)
# Written into each backup's manifest; empty = the git commit when there is one.
APP_VERSION = env.str("APP_VERSION", default="")

# --- Integrations (external services, configured by URL so tests point at local fakes) -------------
TELEGRAM_API_BASE_URL = env.str("TELEGRAM_API_BASE_URL", default="https://api.telegram.org")
WHATSAPP_GRAPH_URL = env.str("WHATSAPP_GRAPH_URL", default="https://graph.facebook.com/v21.0")
CBR_RATES_URL = env.str("CBR_RATES_URL", default="https://www.cbr.ru/scripts/XML_daily.asp")
HTTP_TIMEOUT_SECONDS = env.float("HTTP_TIMEOUT_SECONDS", default=10.0)
# apps/core/http.py: idempotent GETs (WhatsApp media, …) retried on network errors and 5xx, pause doubling.
HTTP_RETRIES = env.int("HTTP_RETRIES", default=3)
HTTP_RETRY_BACKOFF_SECONDS = env.float("HTTP_RETRY_BACKOFF_SECONDS", default=0.5)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")

# --- Finance (apps/finance): the Central Bank rates client -------------------------------------------
# The same retry policy as HTTP_RETRIES (apps/core/http.py), with the bank's own numbers.
CBR_RETRIES = env.int("CBR_RETRIES", default=3)
CBR_RETRY_BACKOFF_SECONDS = env.float("CBR_RETRY_BACKOFF_SECONDS", default=0.5)

# --- Intake channels (apps/integrations) ------------------------------------------------------------
# Accepted submissions per client address (a form refused for a typo does not count).
WEBFORM_RATE_LIMIT = env.str("WEBFORM_RATE_LIMIT", default="10/hour")
WEBFORM_FRAME_ANCESTORS = env.list("WEBFORM_FRAME_ANCESTORS", default=[])
CSP_PAGE_PREFIXES = ["/form/"]  # the pages whose views set a Content-Security-Policy
IMAP_CA_FILE = env.str("IMAP_CA_FILE", default="")

# --- Admin exports (django-import-export): the "export selected" action downloads the Excel CSV at once.
IMPORT_EXPORT_SKIP_ADMIN_ACTION_EXPORT_UI = True
