"""The rendering engine: filters, the sandbox, limits, and the deny-by-default URL fetcher (point 4)."""

import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.documents import rendering
from apps.documents.context import ensure_plain, sample_context
from apps.documents.tests.helpers import normalise, pdf_bytes_text, pdf_font_names

# --- Filters ------------------------------------------------------------------------------------------


def test_amount_in_words_russian_rubles_and_kopecks():
    assert rendering.amount_in_words(Decimal("123000.45")) == "Сто двадцать три тысячи рублей 45 копеек"
    assert rendering.amount_in_words(Decimal("1.01")) == "Один рубль 01 копейка"
    assert rendering.amount_in_words(Decimal("0")) == "Ноль рублей 00 копеек"


def test_money_format_groups_with_no_break_space():
    assert rendering.format_money(Decimal("1234567.5")) == "1\u00a0234\u00a0567,50"
    assert rendering.format_money(Decimal("-12.345")) == "-12,35"


def test_context_refuses_model_like_objects():
    ensure_plain(sample_context("invoice"))
    with pytest.raises(TypeError):
        ensure_plain({"order": object()})
    with pytest.raises(TypeError):
        ensure_plain({"amount": 1.5})  # money is Decimal, never float


# --- Sandbox ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__ }}",
        "<p>ok</p>\n{{ order.__class__ }}",
        "{{ range.__globals__ }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
        "{{ order['__class__'] }}",
    ],
)
def test_dunder_access_is_refused_at_compile_time_with_line(body):
    with pytest.raises(rendering.RenderError) as caught:
        rendering.compile_template(body)
    assert caught.value.code == "template_forbidden"
    assert caught.value.lineno == body.count("\n") + 1


@pytest.mark.parametrize(
    "body",
    [
        "{{ order|attr('__class__') }}",
        "{{ (order|attr('__cla' ~ 'ss__')).__name__ }}",
        "{{ document.title.format.__globals__ }}",
        "{{ '{0.__class__.__mro__}'.format(order) }}",
        "{{ ('%' ~ 'x')|format(order.number) }}{{ order.number.__len__ }}",
    ],
)
def test_dynamic_unsafe_attributes_are_refused_at_render(body):
    with pytest.raises(rendering.RenderError) as caught:
        rendering.render_pdf(body, "", sample_context("invoice"))
    assert caught.value.code in {"template_forbidden", "template_error"}


def test_context_is_immutable_in_the_sandbox():
    with pytest.raises(rendering.RenderError):
        rendering.render_pdf("{{ services.append(1) }}{{ services|length }}", "", sample_context("invoice"))


def test_syntax_error_reports_the_line():
    with pytest.raises(rendering.RenderError) as caught:
        rendering.compile_template("<h1>{{ document.title }}</h1>\n<p>\n{{ totals.total | }}\n</p>")
    assert caught.value.lineno == 3
    assert "строка 3" in str(caught.value)


def test_include_and_import_are_refused():
    with pytest.raises(rendering.RenderError) as caught:
        rendering.compile_template("{% include '/etc/passwd' %}")
    assert caught.value.lineno == 1


def test_undefined_variable_is_an_error_with_line():
    with pytest.raises(rendering.RenderError) as caught:
        rendering.render_pdf("<p>a</p>\n<p>{{ no_such_thing.x }}</p>", "", sample_context("invoice"))
    assert caught.value.lineno == 2


# --- Limits -------------------------------------------------------------------------------------------


def test_huge_range_is_refused():
    with pytest.raises(rendering.RenderError):
        rendering.render_pdf("{% for i in range(10**9) %}x{% endfor %}", "", sample_context("invoice"))


def test_endless_loop_is_stopped_by_the_time_limit():
    body = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    with pytest.raises(rendering.RenderError) as caught:
        rendering.render_html(rendering.compile_template(body), sample_context("invoice"), timeout=1)
    assert caught.value.code == "render_timeout"


def test_endless_recursion_is_stopped():
    body = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}"
    with pytest.raises(rendering.RenderError) as caught:
        rendering.render_html(rendering.compile_template(body), sample_context("invoice"), timeout=3)
    assert caught.value.code in {"render_limit", "render_timeout"}


def test_huge_string_is_refused():
    with pytest.raises(rendering.RenderError):
        rendering.render_html(rendering.compile_template("{{ 'x' * 10**9 }}"), sample_context("invoice"))


def test_output_size_is_limited(settings):
    body = "{% for i in range(100000) %}<p>{{ 'x' * 50000 }}</p>{% endfor %}"
    with pytest.raises(rendering.RenderError) as caught:
        rendering.render_html(rendering.compile_template(body), sample_context("invoice"), timeout=10)
    assert caught.value.code == "render_too_large"


def test_server_process_survives_after_limits():
    """After killed children the engine still renders a normal document."""
    pdf = rendering.render_pdf("<p>{{ totals.total_in_words }}</p>", "", sample_context("invoice"))
    assert pdf.startswith(b"%PDF")


# --- URL fetcher: nothing leaves the bundled assets ---------------------------------------------------


class _CountingHandler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's API)
        type(self).hits.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/target.css")
            self.end_headers()
            return
        body = b"body::before { content: 'FETCHED-MARKER'; }"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def counting_server():
    _CountingHandler.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _CountingHandler.hits
    server.shutdown()
    server.server_close()


def test_local_http_server_is_never_contacted(counting_server):
    base, hits = counting_server
    body = f"""
      <link rel="stylesheet" href="{base}/style.css">
      <style>@import url("{base}/import.css"); p {{ background: url("{base}/bg.png"); }}</style>
      <img src="{base}/x.png"><p>Текст</p>
      <link rel="stylesheet" href="{base}/redirect">
      <img src="http://169.254.169.254/latest/meta-data/iam/security-credentials/">
    """
    css = f'@import url("{base}/template.css"); @font-face {{ font-family: X; src: url("{base}/font.ttf"); }}'
    pdf = rendering.render_pdf(body, css, sample_context("invoice"))
    assert hits == []
    assert "FETCHED-MARKER" not in pdf_bytes_text(pdf)


def test_redirect_and_metadata_address_are_refused_by_the_fetcher(counting_server):
    base, hits = counting_server
    rendering.warm_up()
    fetcher = rendering._weasy["fetcher_class"]()
    for url in (f"{base}/redirect", "http://169.254.169.254/latest/meta-data/", "https://127.0.0.1/"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert hits == []
    assert len(fetcher.refused) == 3


def test_file_urls_outside_the_bundled_assets_are_not_read(tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("body::before { content: 'SECRET-MARKER'; }")
    traversal = rendering.assets_base_url() + "../../etc/passwd"
    body = f"""
      <link rel="stylesheet" href="file:///etc/passwd">
      <link rel="stylesheet" href="{secret.as_uri()}">
      <link rel="stylesheet" href="{traversal}">
      <img src="file:///etc/hostname"><p>Текст</p>
    """
    pdf = rendering.render_pdf(body, "", sample_context("invoice"))
    text = pdf_bytes_text(pdf)
    assert "SECRET-MARKER" not in text
    assert "root:" not in text
    fetcher = rendering._weasy["fetcher_class"]()
    for url in ("file:///etc/passwd", secret.as_uri(), traversal):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_bundled_font_and_data_uri_are_allowed():
    png = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    pdf = rendering.render_pdf(f'<p>Съешь же ещё этих мягких французских булок</p><img src="{png}">', "",
                               sample_context("invoice"))
    assert {"DejaVu-Sans"} <= pdf_font_names(pdf)  # the bundled font is embedded
    assert "Съешь же ещё этих мягких французских булок" in normalise(pdf_bytes_text(pdf))


# --- Layout limits: time, pages, the worker stays free ---------------------------------------------------

FOUR_THOUSAND_PAGES = (
    '{% for i in range(4000) %}<div style="page-break-after: always">Страница {{ i }}</div>{% endfor %}'
)


def test_four_thousand_pages_are_refused_while_laid_out():
    """The page maker stops at page MAX_PAGES + 1: the refusal does not wait for 4 000 pages."""
    with pytest.raises(rendering.RenderError) as caught:
        rendering.render_pdf(FOUR_THOUSAND_PAGES, "", sample_context("invoice"))
    assert caught.value.code == "render_too_large"
    assert f"длиннее {rendering.MAX_PAGES} страниц" in caught.value.message


def test_four_thousand_page_template_upload_answers_400(supervisor_api, db):
    response = supervisor_api.post(
        "/api/v1/document-templates/", {"type": "invoice", "body": FOUR_THOUSAND_PAGES}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "render_too_large" and "страниц" in body["detail"]


def _heavy_html(rows: int = 4000) -> str:
    """A table of 4 000 rows: under the HTML size limit, but its layout takes many seconds (each
    page break lays the rest of the table out again)."""
    cells = "".join(f"<td>{n} ячейка с текстом</td>" for n in range(8))
    return "<table>" + f"<tr>{cells}</tr>" * rows + "</table>"


def test_layout_over_the_time_limit_is_killed_and_reported():
    with pytest.raises(rendering.RenderError) as caught:
        rendering.html_to_pdf(_heavy_html(), timeout=0.3)
    assert caught.value.code == "render_timeout"
    assert "не сформирован за 0.3 с" in caught.value.message
    # The process that asked is intact and renders the next document.
    assert rendering.render_pdf("<p>{{ totals.total_in_words }}</p>", "", sample_context("invoice")).startswith(b"%PDF")


def test_a_heavy_layout_does_not_hold_up_other_renders():
    """Layout runs in a child: while one document is being laid out, another thread renders its own."""
    heavy_started, heavy_done = threading.Event(), threading.Event()
    outcome = {}

    def heavy():
        heavy_started.set()
        try:
            rendering.html_to_pdf(_heavy_html(), timeout=3)
        except rendering.RenderError as error:
            outcome["heavy"] = error.code
        finally:
            heavy_done.set()

    thread = threading.Thread(target=heavy, daemon=True)
    thread.start()
    heavy_started.wait(5)
    pdf = rendering.render_pdf("<p>Счёт {{ document.number }}</p>", "", sample_context("invoice"))
    assert pdf.startswith(b"%PDF")
    assert not heavy_done.is_set()  # the light document did not wait for the heavy one
    thread.join(30)
    assert outcome.get("heavy") == "render_timeout"  # killed at its limit, reported, the worker free


@pytest.mark.parametrize("nice", [10, 0])
def test_the_layout_child_runs_at_the_heavy_work_nice(settings, nice):
    """PDFs are laid out below the web threads' priority (HEAVY_WORK_NICE), so a full CPU serves
    managers' quick requests first (issue 19 point 5)."""
    import os

    settings.HEAVY_WORK_NICE = nice
    child_nice = rendering._in_child(lambda write_fd: rendering._send(write_fd, ("ok", os.nice(0))), timeout=10,
                                     answer_limit=1024, timeout_message="timeout")
    assert child_nice == min(19, os.nice(0) + nice)
