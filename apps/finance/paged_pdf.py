"""Long, pre-paginated documents (the reconciliation statement) laid out by WeasyPrint in parallel.

WeasyPrint lays a document out in one thread at ≈ 0.6 ms of CPU per text line here (BENCHMARKS.md,
issue 17): 5 000 movements are ≈ 3 s of CPU however the HTML is written. When the document is cut into
pages in Python (each page a block of its own, page numbers printed as literals), groups of pages are
independent documents: they are laid out at once in forked children, one per CPU this process may
use (settings.STATEMENT_PDF_PROCESSES), and their PDFs are concatenated with pypdf.

The children are forked from the web process (WeasyPrint already imported, fonts loaded, nothing to
start), get only an HTML string, never touch the database and leave with os._exit; each runs with
settings.HEAVY_WORK_NICE like the documents' render children, under a wall-clock limit and an
address-space limit. A child that finds a different number of pages than planned answers so, and
the caller lays the whole document out in this process instead (page numbers then counted by
WeasyPrint).
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import resource
import select
import signal
import threading
import time
from collections.abc import Sequence

from django.conf import settings

from apps.core.errors import BusinessError

CHILD_MEMORY_BYTES = 512 * 1024 * 1024
TIMEOUT_SECONDS = 120.0
_FORK_LOCK = threading.Lock()  # no other thread of this process inside WeasyPrint/Pango while forking


class PageCountMismatch(Exception):
    """A group laid out to another number of pages than the Python pagination planned."""


def _refusing_fetcher():
    from weasyprint.urls import URLFetcher

    class RefuseAll(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError("Загрузка внешних ресурсов запрещена.")

    return RefuseAll()


def html_to_pdf(html: str, *, expected_pages: int | None = None) -> bytes:
    """One document laid out in this process; PageCountMismatch when `expected_pages` is not met."""
    import weasyprint

    with _FORK_LOCK:
        document = weasyprint.HTML(string=html, url_fetcher=_refusing_fetcher()).render()
        if expected_pages is not None and len(document.pages) != expected_pages:
            raise PageCountMismatch(f"{len(document.pages)} pages instead of {expected_pages}")
        return document.write_pdf()


def processes() -> int:
    configured = settings.STATEMENT_PDF_PROCESSES
    return configured if configured > 0 else max(1, min(len(os.sched_getaffinity(0)), 4))


def _child(html: str, expected_pages: int, write_fd: int) -> None:
    """In the forked child: lay the group out, send ("ok", pdf) or ("mismatch", message) and leave."""
    try:
        with contextlib.suppress(ValueError, OSError):
            with open("/proc/self/statm") as statm:
                used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES + used,) * 2)
        if settings.HEAVY_WORK_NICE > 0:
            with contextlib.suppress(OSError):
                os.nice(settings.HEAVY_WORK_NICE)
        import weasyprint

        document = weasyprint.HTML(string=html, url_fetcher=_refusing_fetcher()).render()
        if len(document.pages) != expected_pages:
            result: tuple = ("mismatch", f"{len(document.pages)} pages instead of {expected_pages}")
        else:
            result = ("ok", document.write_pdf())
        payload = memoryview(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        while payload:
            payload = payload[os.write(write_fd, payload):]
    finally:
        os._exit(0)


def _collect(children: list[tuple[int, int]], deadline: float) -> list[bytes | None]:
    """Read every child's pipe until EOF (all at once, they run in parallel); None for a child that
    did not finish by the deadline (killed)."""
    buffers: dict[int, list[bytes]] = {fd: [] for _, fd in children}
    open_fds = set(buffers)
    while open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select(list(open_fds), [], [], remaining)
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if chunk:
                buffers[fd].append(chunk)
            else:
                open_fds.discard(fd)
    results: list[bytes | None] = []
    for pid, fd in children:
        if fd in open_fds:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.close(fd)
        os.waitpid(pid, 0)
        results.append(None if fd in open_fds else b"".join(buffers[fd]))
    return results


def groups_to_pdf(groups: Sequence[tuple[str, int]], *, title: str = "") -> bytes:
    """Each (html, pages) laid out in a forked child at once; the PDFs concatenated in order.

    PageCountMismatch when a group came out with another number of pages than planned.
    """
    import pypdf
    import weasyprint  # noqa: F401 — imported before forking, so the children start with it loaded

    children: list[tuple[int, int]] = []
    try:
        for html, expected in groups:
            read_fd, write_fd = os.pipe()
            with _FORK_LOCK:
                pid = os.fork()
            if pid == 0:  # pragma: no cover — the child leaves through os._exit
                os.close(read_fd)
                _child(html, expected, write_fd)
            os.close(write_fd)
            children.append((pid, read_fd))
    finally:
        answers = _collect(children, time.monotonic() + TIMEOUT_SECONDS)
    writer = pypdf.PdfWriter()
    for answer in answers:
        if not answer:
            raise BusinessError("Документ не сформирован: превышено время или память.", code="render_timeout",
                                status_code=503)
        result = pickle.loads(answer)  # noqa: S301 — from our own forked child over a private pipe
        if result[0] != "ok":
            raise PageCountMismatch(result[1])
        writer.append(pypdf.PdfReader(io.BytesIO(result[1])))
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
