"""The rendering engine: a sandboxed Jinja2 template + plain-dict context → HTML → PDF.

Security model (templates are uploaded by people, so they are untrusted code):

* Jinja2 ``ImmutableSandboxedEnvironment`` with autoescape; the context holds only plain
  dicts/lists/strings/Decimals/numbers (``context.ensure_plain`` checks it), so there are no model
  instances, managers or callables to reach through.
* The Jinja render and the WeasyPrint layout run in a forked child process with a wall-clock limit
  (``DOCUMENTS_RENDER_TIMEOUT_SECONDS``, killed when it is exceeded) and an address-space limit, so
  an endless loop, deep recursion, a huge string or a layout of thousands of pages cannot hang or
  exhaust the server worker. The page limit is enforced while pages are laid out (the child stops at
  page MAX_PAGES + 1), the HTML and the PDF are size-limited.
* WeasyPrint gets a deny-by-default URL fetcher: only files under ``static/documents/`` (fonts,
  images) and ``data:`` URIs; nothing from the network, no other ``file://`` path, no redirects.
* The PDF is size-limited too.

WeasyPrint's import and the font set-up (``FontConfiguration`` + the ``@font-face`` stylesheet)
happen once per process (``warm_up``), never per document; the children are forked from the warmed
process, so they start with fonts loaded (no per-document start-up cost).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import resource
import select
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from num2words import num2words

logger = logging.getLogger("travelcrm.documents")

ASSETS_DIR = (Path(settings.BASE_DIR) / "static" / "documents").resolve()

# Limits; overridable in settings (DOCUMENTS_RENDER_TIMEOUT_SECONDS etc.).
RENDER_TIMEOUT_SECONDS = float(getattr(settings, "DOCUMENTS_RENDER_TIMEOUT_SECONDS", 20.0))
MAX_HTML_BYTES = int(getattr(settings, "DOCUMENTS_MAX_HTML_BYTES", 2 * 1024 * 1024))
MAX_PDF_BYTES = int(getattr(settings, "DOCUMENTS_MAX_PDF_BYTES", 10 * 1024 * 1024))
MAX_PAGES = int(getattr(settings, "DOCUMENTS_MAX_PAGES", 50))
CHILD_MEMORY_BYTES = int(getattr(settings, "DOCUMENTS_RENDER_MEMORY_BYTES", 512 * 1024 * 1024))
MAX_TEMPLATE_CHARS = 200_000
MAX_CSS_CHARS = 100_000
# Largest string/sequence a single `*` or `**` in a template may produce.
MAX_BINOP_RESULT = 100_000
NBSP = "\u00a0"  # no-break space between digit groups


class RenderError(Exception):
    """A template could not be compiled or rendered. ``lineno`` is the template line when known."""

    def __init__(self, message: str, *, lineno: int | None = None, code: str = "template_error") -> None:
        super().__init__(message)
        self.message = message
        self.lineno = lineno
        self.code = code

    def __str__(self) -> str:
        if self.lineno:
            return f"{self.message} (строка {self.lineno})"
        return self.message


# --- Filters available to templates ---------------------------------------------------------------


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return Decimal("0")


def format_money(value: Any) -> str:
    """Decimal → «123 456,78» (Russian grouping with a narrow no-break space, comma decimals)."""
    amount = _to_decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):.2f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + NBSP.join(groups) + "," + fraction



_CURRENCY_WORDS = {"RUB", "USD", "EUR"}


def amount_in_words(value: Any, currency: str = "RUB") -> str:
    """123000.45 → «Сто двадцать три тысячи рублей 45 копеек» (num2words, ru, capitalised)."""
    amount = _to_decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    code = (currency or "RUB").upper()
    if code in _CURRENCY_WORDS:
        text = num2words(amount, lang="ru", to="currency", currency=code, cents=False, separator="")
    else:
        whole = int(amount)
        cents = int((amount - whole) * 100)
        text = f"{num2words(whole, lang='ru')} {code} {cents:02d}"
    return text[:1].upper() + text[1:]


def format_decimal(value: Any, places: int = 2) -> str:
    places = max(0, min(int(places), 6))
    amount = _to_decimal(value)
    return f"{amount:.{places}f}".replace(".", ",")


# --- The sandbox ----------------------------------------------------------------------------------


class DocumentSandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox that also bounds `*` and `**` (e.g. ``"x" * 10**9`` or ``9**9**9``)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):  # noqa: ANN001 (Jinja's signature)
        if operator == "**":
            if isinstance(right, int | float | Decimal) and abs(right) > 100:
                raise SecurityError("Слишком большая степень в шаблоне.")
            return left**right
        if isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            length = len(left) if isinstance(left, str | list | tuple) else len(right)
            times = right if isinstance(left, str | list | tuple) else left
            if isinstance(times, int) and length * times > MAX_BINOP_RESULT:
                raise SecurityError("Слишком длинная строка в шаблоне.")
        return left * right


def _build_environment() -> DocumentSandbox:
    env = DocumentSandbox(autoescape=True, auto_reload=False, cache_size=0, undefined=StrictUndefined)
    env.filters.update(
        {
            "money": format_money,
            "amount_words": amount_in_words,
            "decimal": format_decimal,
        }
    )
    # Filters that allocate by a template-chosen width are dropped (padding to 10**9 would be a
    # memory bomb before the child's limit stops it); nothing a document needs.
    for name in ("center", "indent", "wordwrap", "filesizeformat", "pprint", "xmlattr", "tojson"):
        env.filters.pop(name, None)
    for name in ("lipsum", "cycler", "joiner"):
        env.globals.pop(name, None)
    return env


ENV = _build_environment()


def _template_lineno(error: BaseException) -> int | None:
    """The template line of an error: Jinja's own lineno or the "<template>" frame of the traceback."""
    lineno = getattr(error, "lineno", None)
    if lineno:
        return int(lineno)
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == "<template>":
            line = frame.lineno
    return line


def compile_template(body: str):
    """Compile a template body in the sandbox; RenderError with the line number when it is broken."""
    if len(body) > MAX_TEMPLATE_CHARS:
        raise RenderError(f"Шаблон слишком большой (больше {MAX_TEMPLATE_CHARS} символов).", code="template_too_large")
    try:
        source_ast = ENV.parse(body)
        _refuse_unsupported_nodes(source_ast)
        return ENV.from_string(source_ast)
    except TemplateSyntaxError as error:
        raise RenderError(f"Ошибка синтаксиса шаблона: {error.message}", lineno=error.lineno) from None
    except TemplateError as error:
        raise RenderError(f"Ошибка шаблона: {error}", lineno=_template_lineno(error)) from None


def _refuse_unsupported_nodes(tree: nodes.Template) -> None:
    """No include/import/extends (one self-contained string, no loader, no files) and no
    underscore attributes (``__class__``, ``__globals__``, ``_meta``…) — refused at upload with the line."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        if isinstance(name, str) and name.startswith("_"):
            raise RenderError(f"Обращение к скрытому атрибуту «{name[:40]}» запрещено.", lineno=node.lineno,
                              code="template_forbidden")
    for node_type in (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends):
        for node in tree.find_all(node_type):
            raise RenderError(
                "Включение других шаблонов (include/import/extends) не поддерживается.", lineno=node.lineno
            )


# --- Jinja render in a child process with a time and memory limit ---------------------------------


def _jinja_result(template, context: dict) -> tuple:
    """In the child: ("ok", html) or ("error", message, lineno, code) — never an exception."""
    try:
        html = _render_bounded(template, context)
        too_large = ("error", "Документ слишком большой.", None, "render_too_large")
        return too_large if html is None else ("ok", html)
    except SecurityError as error:
        message = f"Шаблон обращается к запрещённому: {error}"
        return ("error", message, _template_lineno(error), "template_forbidden")
    except RecursionError as error:
        return ("error", "Слишком глубокая рекурсия в шаблоне.", _template_lineno(error), "render_limit")
    except MemoryError:
        return ("error", "Шаблон требует слишком много памяти.", None, "render_limit")
    except Exception as error:  # any template error is reported, never crashes the server
        return ("error", f"Ошибка при заполнении шаблона: {error}", _template_lineno(error), "template_error")


def _render_bounded(template, context: dict) -> str | None:
    """Render chunk by chunk and stop as soon as the output passes MAX_HTML_BYTES (None then)."""
    chunks = []
    size = 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > MAX_HTML_BYTES:
            return None
        chunks.append(chunk)
    return "".join(chunks)


def _current_vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _read_until(read_fd: int, deadline: float, limit: int = MAX_HTML_BYTES * 4 + 4096) -> bytes | None:
    """Read the child's answer until EOF; None when the deadline passes first."""
    chunks = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([read_fd], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return b""
        chunks.append(chunk)


def _send(write_fd: int, result: tuple) -> None:
    payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(payload)
    while view:
        written = os.write(write_fd, view)
        view = view[written:]


def _in_child(work, *, timeout: float, answer_limit: int, timeout_message: str):
    """Run ``work(write_fd)`` in a forked child; its pickled answer, or RenderError on overrun.

    The parent only waits on a pipe: when the deadline passes the child is killed (SIGKILL) and
    the worker is free at once. Forked while holding _WEASY_LOCK so that no other thread of this
    process is inside WeasyPrint/Pango at the moment of the fork (their locks would be copied held).
    """
    read_fd, write_fd = os.pipe()
    with _WEASY_LOCK:
        pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES + _current_vm_bytes(),) * 2)
            if settings.HEAVY_WORK_NICE > 0:  # a PDF may wait; a manager's quick request on the same CPU may not
                with contextlib.suppress(OSError):
                    os.nice(settings.HEAVY_WORK_NICE)
            work(write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    data = None
    try:
        data = _read_until(read_fd, time.monotonic() + timeout, answer_limit)
    finally:
        os.close(read_fd)
        if data is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if data is None:
        raise RenderError(timeout_message, code="render_timeout")
    if not data:
        raise RenderError("Заполнение шаблона прервано: превышено ограничение памяти или размера.", code="render_limit")
    result = pickle.loads(data)  # noqa: S301 — bytes come from our own forked child over a private pipe
    if result[0] == "ok":
        return result[1]
    _, message, lineno, code = result
    raise RenderError(message, lineno=lineno, code=code)


def render_html(template, context: dict, *, timeout: float | None = None) -> str:
    """Render a compiled template with a hard time limit (the child is killed when it runs over)."""
    timeout = RENDER_TIMEOUT_SECONDS if timeout is None else timeout
    return _in_child(
        lambda write_fd: _send(write_fd, _jinja_result(template, context)), timeout=timeout,
        answer_limit=MAX_HTML_BYTES * 4 + 4096,
        timeout_message=f"Шаблон не уложился в ограничение времени ({timeout:g} с) — возможно, бесконечный цикл.",
    )


# --- WeasyPrint: deny-by-default fetcher, fonts set up once per process ---------------------------


@dataclass
class WarmUpCost:
    import_seconds: float = 0.0
    fonts_seconds: float = 0.0


WARM_UP = WarmUpCost()
_WEASY_LOCK = threading.Lock()  # WeasyPrint/Pango are not documented thread-safe: one render at a time
_WARM_LOCK = threading.Lock()
_weasy: dict[str, Any] = {}

BASE_CSS = """
@font-face { font-family: "DejaVu Sans"; src: url("fonts/DejaVuSans.ttf"); font-weight: normal; font-style: normal; }
@font-face { font-family: "DejaVu Sans"; src: url("fonts/DejaVuSans-Bold.ttf"); font-weight: bold; font-style: normal; }
@font-face { font-family: "DejaVu Sans"; src: url("fonts/DejaVuSans-Oblique.ttf"); font-style: italic; }
@page { size: A4; margin: 15mm 12mm 15mm 15mm; }
html { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; line-height: 1.3; }
"""


def assets_base_url() -> str:
    return ASSETS_DIR.as_uri() + "/"


def _make_fetcher_class(url_fetcher_base):
    class SafeURLFetcher(url_fetcher_base):
        """Deny by default: only data: URIs and regular files under static/documents/."""

        def __init__(self) -> None:
            super().__init__(timeout=1, allowed_protocols={"data", "file"}, allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = _allowed_asset_path(url)
                if path is not None:
                    return _weasy["URLFetcherResponse"](url, body=path.read_bytes(), headers=_asset_headers(path))
            self.refused.append(url[:200])
            raise ValueError("Загрузка внешних ресурсов запрещена.")

    return SafeURLFetcher


_ASSET_TYPES = {".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2",
                ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml",
                ".css": "text/css"}


def _asset_headers(path: Path) -> dict:
    return {"Content-Type": _ASSET_TYPES[path.suffix.lower()]}


def _allowed_asset_path(url: str) -> Path | None:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or parts.query:
        return None
    path = Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(ASSETS_DIR) or path.suffix.lower() not in _ASSET_TYPES or not path.is_file():
        return None
    return path


def warm_up() -> WarmUpCost:
    """Import WeasyPrint and set fonts up once per process; returns the measured cost."""
    if _weasy.get("ready"):
        return WARM_UP
    with _WARM_LOCK:
        if _weasy.get("ready"):
            return WARM_UP
        started = time.perf_counter()
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        imported = time.perf_counter()
        state: dict[str, Any] = {"weasyprint": weasyprint, "URLFetcherResponse": URLFetcherResponse}
        _weasy.update(state)  # the fetcher class below reads URLFetcherResponse from here
        state["fetcher_class"] = _make_fetcher_class(URLFetcher)
        font_config = FontConfiguration()
        state["font_config"] = font_config
        state["base_css"] = weasyprint.CSS(
            string=BASE_CSS, base_url=assets_base_url(), font_config=font_config,
            url_fetcher=state["fetcher_class"](),
        )
        # Lay out a one-line document so Pango loads the bundled fonts now, not on the first order.
        weasyprint.HTML(string="<p>Прогрев <b>шрифтов</b></p>", base_url=assets_base_url(),
                        url_fetcher=state["fetcher_class"]()).write_pdf(
            stylesheets=[state["base_css"]], font_config=font_config)
        _weasy.update(state)
        _warm_layout_caches(state)
        # WeasyPrint's modules, fonts and caches live as long as the process: move them out of the
        # garbage collector's way so full collections during a render don't rescan them each time
        # (and so the forked render children share these pages instead of copying them).
        gc.collect()
        gc.freeze()
        finished = time.perf_counter()
        WARM_UP.import_seconds = imported - started
        WARM_UP.fonts_seconds = finished - imported
        _weasy.update(state, ready=True)
    return WARM_UP


BUNDLED_TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates" / "documents"


def _warm_layout_caches(state: dict) -> None:
    """Lay out the bundled templates (our own files, trusted) once in this process.

    Documents are laid out in forked children whose caches die with them: whatever Pango, HarfBuzz
    and WeasyPrint cache while laying out a real document (glyphs of every size and weight, the
    bundled CSS) must therefore be filled here, in the process the children are forked from.
    """
    from apps.documents.context import sample_context

    try:
        css = (BUNDLED_TEMPLATES_DIR / "base.css").read_text(encoding="utf-8")
        stylesheets = [state["base_css"], _user_css(css)]
        for path in sorted(BUNDLED_TEMPLATES_DIR.glob("*.html")):
            html = ENV.from_string(path.read_text(encoding="utf-8")).render(sample_context(path.stem))
            state["weasyprint"].HTML(string=html, base_url=assets_base_url(),
                                     url_fetcher=state["fetcher_class"]()).write_pdf(
                stylesheets=stylesheets, font_config=state["font_config"])
    except Exception:  # a warm-up only: a bundled template that fails here fails visibly when used
        logger.warning("document render: warming the layout caches failed", exc_info=True)


@lru_cache(maxsize=64)
def _user_css(css: str):
    """Template CSS parsed once per distinct text (fonts it declares are fetched by the safe fetcher)."""
    weasyprint = _weasy["weasyprint"]
    return weasyprint.CSS(string=css, base_url=assets_base_url(), font_config=_weasy["font_config"],
                          url_fetcher=_weasy["fetcher_class"]())


class _PageLimitExceeded(Exception):
    pass


def _limit_pages_during_layout(weasyprint_layout) -> None:
    """In the child only: stop WeasyPrint's page maker at page MAX_PAGES + 1, not after the last page."""
    make_all_pages = weasyprint_layout.make_all_pages

    def limited(*args, **kwargs):
        for number, page in enumerate(make_all_pages(*args, **kwargs), start=1):
            if number > MAX_PAGES:
                raise _PageLimitExceeded
            yield page

    weasyprint_layout.make_all_pages = limited


def _pdf_result(html: str, css: str) -> tuple:
    """In the child: lay out and write the PDF; ("ok", pdf) or an error tuple."""
    import weasyprint.layout

    _limit_pages_during_layout(weasyprint.layout)
    weasyprint = _weasy["weasyprint"]
    stylesheets = [_weasy["base_css"]]
    if css.strip():
        stylesheets.append(_user_css(css))
    fetcher = _weasy["fetcher_class"]()
    try:
        document = weasyprint.HTML(string=html, base_url=assets_base_url(), url_fetcher=fetcher).render(
            stylesheets=stylesheets, font_config=_weasy["font_config"]
        )
        if len(document.pages) > MAX_PAGES:
            raise _PageLimitExceeded
        pdf = document.write_pdf()
    except _PageLimitExceeded:
        return ("error", f"Документ длиннее {MAX_PAGES} страниц.", None, "render_too_large")
    except MemoryError:
        return ("error", "Документ требует слишком много памяти.", None, "render_limit")
    except RecursionError:
        return ("error", "Слишком глубокая вложенность элементов документа.", None, "render_limit")
    if fetcher.refused:
        logger.warning("document render: refused external resources", extra={"refused_count": len(fetcher.refused)})
    if len(pdf) > MAX_PDF_BYTES:
        return ("error", "PDF слишком большой.", None, "render_too_large")
    return ("ok", pdf)


def _document_result(template, context: dict, css: str) -> tuple:
    rendered = _jinja_result(template, context)
    if rendered[0] != "ok":
        return rendered
    if len(rendered[1]) > MAX_HTML_BYTES:
        return ("error", "Документ слишком большой.", None, "render_too_large")
    return _pdf_result(rendered[1], css)


def _prepare_pdf(html: str, css: str) -> None:
    """In the parent, before forking: fonts loaded and the template CSS parsed (cached here, so
    every child inherits it instead of parsing it again)."""
    warm_up()
    if len(html) > MAX_HTML_BYTES:
        raise RenderError("Документ слишком большой.", code="render_too_large")
    if len(css) > MAX_CSS_CHARS:
        raise RenderError("Стили шаблона слишком большие.", code="template_too_large")
    if css.strip():
        with _WEASY_LOCK:
            _user_css(css)


def _layout_timeout_message(timeout: float) -> str:
    return (f"Документ не сформирован за {timeout:g} с: шаблон слишком тяжёлый (бесконечный цикл "
            f"или вёрстка тысяч строк); документ должен быть не длиннее {MAX_PAGES} страниц.")


def html_to_pdf(html: str, css: str = "", *, timeout: float | None = None) -> bytes:
    """HTML + CSS → PDF bytes with the safe fetcher, bundled fonts and time/memory/page/size limits."""
    timeout = RENDER_TIMEOUT_SECONDS if timeout is None else timeout
    _prepare_pdf(html, css)
    return _in_child(lambda write_fd: _send(write_fd, _pdf_result(html, css)), timeout=timeout,
                     answer_limit=MAX_PDF_BYTES * 2 + 4096, timeout_message=_layout_timeout_message(timeout))


def render_document(template, context: dict, css: str = "", *, timeout: float | None = None) -> bytes:
    """A compiled template + context → PDF in ONE child: template and layout share one time limit."""
    timeout = RENDER_TIMEOUT_SECONDS if timeout is None else timeout
    _prepare_pdf("", css)
    return _in_child(lambda write_fd: _send(write_fd, _document_result(template, context, css)), timeout=timeout,
                     answer_limit=MAX_PDF_BYTES * 2 + 4096, timeout_message=_layout_timeout_message(timeout))


def render_pdf(body: str, css: str, context: dict, *, timeout: float | None = None) -> bytes:
    """The whole pipeline: compile (sandbox) → render + lay out (child, time-limited) → PDF."""
    return render_document(compile_template(body), context, css, timeout=timeout)
