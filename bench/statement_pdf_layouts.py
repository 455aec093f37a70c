"""Benchmark (issue 17): which WeasyPrint layout of a long reconciliation statement is fastest.

    .venv/bin/python bench/statement_pdf_layouts.py [--rows 1000] [--layouts tables40,pre50]

Synthetic movements (date, document, order, debit, credit) on A4 with the statement's fonts, each layout
rendered once in this process: layout (HTML → boxes → pages) and write (pages → PDF) times, pages, size.
Layouts:
  tables40      the statement before issue 17's fix: tables of 40 rows, fixed layout, collapsed borders,
                page-break-inside: avoid
  table         one table, table-layout: fixed, fixed column widths, separate borders, no thead
  noborders40   tables of 40 rows, no borders (zebra background), nowrap cells
  blocks        rows as fixed-height <div>s of inline-block spans
  pages         one table per page (break-after: page), nowrap cells
  pre           every row a line of one <pre> (monospaced; quadratic: one text box for all lines)
  pre50         lines of a monospaced font, 50 per <pre> (the statement after issue 17's second pass)
  prepaged      the same lines cut into pages in Python: one pre-wrap <pre> of 80 lines per page, a forced
                break between pages (what apps.finance.statements does now, in one process; the real
                statement also lays groups of pages out in parallel: bench/supplier_reports.py)
"""

import argparse
import time

import weasyprint

PAGE = """@page { size: A4; margin: 14mm 12mm 14mm 14mm;
  @bottom-right { content: "стр. " counter(page) " из " counter(pages); font-size: 7.5pt; } }
html { font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt; line-height: 1.3; }
"""
COLS = "<colgroup><col class=d><col><col class=o><col class=m><col class=m></colgroup>"
WIDTHS = "col.d { width: 20mm; } col.o { width: 26mm; } col.m { width: 30mm; }"


def movements(count: int) -> list[tuple[str, ...]]:
    rows = []
    for i in range(count):
        amount = f"{i * 13 % 100000:,.2f}".replace(",", "\u00a0").replace(".", ",")
        document = f"Оплата № {100000 + i} от 01.02.2026" if i % 2 else "Услуги: проживание"
        rows.append((f"{1 + i % 28:02d}.{1 + i % 12:02d}.2026", document, f"2026-{i:06d}", amount, ""))
    return rows


def chunks(rows: list, size: int) -> list[list]:
    return [rows[start:start + size] for start in range(0, len(rows), size)]


def cells(rows) -> str:
    return "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td><td class=n>{d}</td><td class=n>{e}</td></tr>"
                   for a, b, c, d, e in rows)


def tables(rows, size, css, table_class=""):
    return css, "".join(f"<table class='{table_class}'>{COLS}<tbody>{cells(part)}</tbody></table>"
                        for part in chunks(rows, size))


def line(row) -> str:
    a, b, c, d, e = row
    return f"│ {a:<10} │ {b:<41} │ {c:<12} │ {d:>15} │ {e:>15} │"


def layout(name: str, rows: list) -> tuple[str, str]:
    n = len(rows)
    if name == "tables40":
        return tables(rows, 40, f"""table {{ width: 100%; border-collapse: collapse; table-layout: fixed; }} {WIDTHS}
th, td {{ border: 0.5pt solid #444; padding: 1mm 1.5mm; vertical-align: top; }}
td.n {{ text-align: right; white-space: nowrap; }} table {{ page-break-inside: avoid; margin: 0; }}""")
    if name == "table":
        return tables(rows, n, f"""table {{ width: 100%; border-collapse: separate; border-spacing: 0;
table-layout: fixed; }} {WIDTHS}
td {{ border-bottom: 0.5pt solid #444; border-left: 0.5pt solid #444; padding: 1mm 1.5mm; vertical-align: top; }}
td.n {{ text-align: right; white-space: nowrap; }}""")
    if name == "noborders40":
        return tables(rows, 40, f"""table {{ width: 100%; border-collapse: separate; border-spacing: 0;
table-layout: fixed; }} {WIDTHS}
td {{ padding: 0.5mm 1.5mm; white-space: nowrap; overflow: hidden; }} td.n {{ text-align: right; }}
tr:nth-child(even) td {{ background: #eee; }}""")
    if name == "pages":
        return tables(rows, 60, f"""table {{ width: 100%; border-collapse: separate; border-spacing: 0;
table-layout: fixed; }} {WIDTHS}
td {{ border-bottom: 0.5pt solid #444; padding: 1mm 1.5mm; white-space: nowrap; overflow: hidden; }}
td.n {{ text-align: right; }} table.pg {{ break-after: page; }}""", "pg")
    if name == "blocks":
        css = """div.r { height: 4.2mm; overflow: hidden; white-space: nowrap; border-bottom: 0.5pt solid #444; }
div.r span { display: inline-block; overflow: hidden; } span.d { width: 20mm; } span.t { width: 80mm; }
span.o { width: 26mm; } span.m { width: 30mm; text-align: right; }"""
        body = "".join(f"<div class=r><span class=d>{a}</span><span class=t>{b}</span><span class=o>{c}</span>"
                       f"<span class=m>{d}</span><span class=m>{e}</span></div>" for a, b, c, d, e in rows)
        return css, body
    mono = 'pre { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; line-height: 1.18; margin: 0; }'
    if name == "pre":
        return mono, "<pre>" + "\n".join(line(row) for row in rows) + "</pre>"
    if name == "pre50":
        return mono, "".join("<pre>" + "\n".join(line(row) for row in part) + "</pre>" for part in chunks(rows, 50))
    if name == "prepaged":
        return (mono + " pre { white-space: pre-wrap; line-height: 8.85pt; } div.p + div.p { break-before: page; }",
                "".join("<div class=p><pre>" + "\n".join(line(row) for row in part) + "</pre></div>"
                        for part in chunks(rows, 80)))
    raise SystemExit(f"unknown layout {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--layouts", default="tables40,table,noborders40,blocks,pages,pre50,prepaged")
    from benchdb import add_scale_argument  # bench/ is the script's folder

    add_scale_argument(parser, fixed_because=(
        "synthetic movements laid out in this process, no database: --rows is the statement's size"))
    args = parser.parse_args()
    rows = movements(args.rows)
    for name in args.layouts.split(","):
        css, body = layout(name, rows)
        html = f"<!DOCTYPE html><html lang=ru><head><meta charset=utf-8><style>{PAGE}{css}</style></head><body>" \
               f"<h1>Акт сверки</h1>{body}</body></html>"
        started, cpu = time.perf_counter(), time.process_time()
        document = weasyprint.HTML(string=html).render()
        laid_out = time.perf_counter()
        pdf = document.write_pdf()
        done = time.perf_counter()
        print(f"{name:12s} {args.rows} rows: layout {laid_out - started:6.2f} s, write {done - laid_out:5.2f} s, "
              f"total {done - started:6.2f} s (CPU {time.process_time() - cpu:5.2f} s), {len(document.pages)} pages, "
              f"{len(pdf) / 1e3:.0f} kB", flush=True)


if __name__ == "__main__":
    main()
