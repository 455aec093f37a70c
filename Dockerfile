# Travel CRM — the application image (API, admin, job worker).
#   docker build -t travelcrm .            # runtime image (target "runtime", the default)
#   docker build --target test -t travelcrm-test .   # + test/lint tools (docker-compose.override.yml)
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (PDF documents) needs pango; DejaVu fonts carry Cyrillic; poppler-utils' pdftoppm draws
# the PNG previews of template versions in the admin.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils \
    && rm -rf /var/lib/apt/lists/*

# Backups use pg_dump / pg_restore of the server's major version (compose runs postgres:16); they
# come from that very image, with its libpq (libpq5 brings the libraries libpq itself needs).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=postgres:16-bookworm /usr/lib/postgresql/16/bin/pg_dump /usr/lib/postgresql/16/bin/pg_restore \
    /usr/lib/postgresql/16/bin/
COPY --from=postgres:16-bookworm /usr/lib/x86_64-linux-gnu/libpq.so.5* /usr/lib/postgresql/16/lib/
ENV BACKUP_PG_BIN_DIR=/usr/lib/postgresql/16/bin

RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app
COPY requirements/ requirements/
RUN pip install -r requirements/base.txt

COPY --chown=app:app . .

# Static files are collected at build time; the settings need some environment to load, but no
# secret: dev mode with dummy values, nothing here reaches the running container.
RUN DEBUG=true DATABASE_URL=postgres://build@localhost/build S3_ENDPOINT_URL=http://localhost:9000 \
    python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R app:app /app/staticfiles

USER app

EXPOSE 8000
# Our own JSON request log replaces gunicorn's access log.
# 2 processes × 4 threads: a slow request holds one thread, not half the server (HEAVY_REQUEST_SLOTS
# keeps slow ones below the thread count). Compose sets GUNICORN_WORKERS / GUNICORN_THREADS.
# --keep-alive 130: an idle connection must outlive the proxy's pooled one (Caddy keeps them 2 min,
# nginx 60 s); gunicorn's default 2 s closed them under the proxy's feet and a POST sent on such a
# connection got a reset (bench/load.py: 0.2 % of requests at 50 users; BENCHMARKS.md, issue 15).
ENV GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000 --workers 2 --threads 4 --timeout 60 --graceful-timeout 30 --keep-alive 130"
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4).status == 200 else 1)"
CMD ["gunicorn", "travelcrm.wsgi:application"]


# Test image: dev tools on top (pytest, ruff, ...). Used by the `tests` service.
FROM runtime AS test
USER root
RUN pip install -r requirements/dev.txt
USER app
CMD ["python", "-m", "pytest", "-q"]
