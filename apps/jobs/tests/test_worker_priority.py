"""The `worker` command runs below the web server's priority (WORKER_NICE, issue 15): on a machine
it shares with gunicorn, a full CPU serves the webhook first and a reply waits."""

import os

import pytest

from apps.jobs.worker import lower_priority


def _niceness_in_child(settings, nice: int) -> int:
    settings.WORKER_NICE = nice
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child lowers its own priority, never the test process's
        try:
            os.write(write_fd, str(lower_priority()).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    os.waitpid(pid, 0)
    with os.fdopen(read_fd) as pipe:
        return int(pipe.read())


@pytest.mark.parametrize("nice", [0, 10])
def test_worker_lowers_its_priority_by_worker_nice(settings, nice):
    assert _niceness_in_child(settings, nice) == min(19, os.nice(0) + nice)
