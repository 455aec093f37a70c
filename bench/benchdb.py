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


# --- --scale: every bench script takes it (issue 19 point 6) ------------------------------------------


def add_scale_argument(parser, *, sizes: str | None = None, fixed_because: str | None = None) -> None:
    """`--scale N` (default 1). With `sizes` ("1 = 100 000 clients, 10 = 1 000 000"): the seeds grow
    N times, in a database of their own per scale (scaled_suffix). With `fixed_because`: the bench
    measures something whose cost does not depend on how much data is stored, so only 1 is accepted
    and --help says why."""
    if fixed_because:
        parser.add_argument("--scale", type=int, default=1, choices=[1],
                            help=f"only 1: {fixed_because}")
    else:
        parser.add_argument("--scale", type=int, default=1,
                            help=f"data size: {sizes} (own database per scale; 64-bit ids, VACUUM ANALYZE)")


def scaled_suffix(suffix: str, scale: int) -> str:
    """The bench database's suffix at this scale: "_x10" added above 1, so the sizes never mix."""
    return suffix if scale == 1 else f"{suffix}_x{scale}"


def vacuum_analyze(url: str, *tables: str) -> None:
    """After seeding: visibility map and statistics as a production database has them (index-only
    scans and the planner's estimates depend on both)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {', '.join(tables)}" if tables else "VACUUM ANALYZE")
