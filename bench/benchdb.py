"""The benchmarks' own databases: each bench runs in "<DATABASE_URL's name>_<suffix>", never in the
developer's database (seeded rows, throw-away encryption keys)."""

import os
import urllib.parse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/travelcrm"


def bench_database_url(suffix: str, override: str = "BENCH_DATABASE_URL") -> str:
    """The URL of the bench's database; the environment variable `override` wins when set."""
    if os.environ.get(override):
        return os.environ[override]
    base = urllib.parse.urlsplit(os.environ.get("DATABASE_URL", DEFAULT_URL))
    name = (base.path.lstrip("/") or "travelcrm") + suffix
    return urllib.parse.urlunsplit(base._replace(path="/" + name))


def create_database(url: str, *, drop: bool = False) -> None:
    """Create the database of `url` when missing; with drop=True start it over."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if drop:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
