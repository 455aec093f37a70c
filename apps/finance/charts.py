"""Charts for the admin's reports, drawn on the server as SVG: no JavaScript, no CDN, work offline.

`bar_chart` draws grouped vertical bars (categories along the bottom, one bar per series), with
the value over each bar; text is escaped. Figures are Decimal money or counts.
"""

from decimal import Decimal
from html import escape

PALETTE = ("#417690", "#79aec8", "#e0a526", "#ba2121", "#5b8c3a")


def _fmt(value) -> str:
    if isinstance(value, Decimal):
        value = value.quantize(Decimal("1"))
        return f"{value:,.0f}".replace(",", "\u00a0")
    return str(value)


def bar_chart(categories: list[str], series: list[tuple[str, list]], *, title: str = "", width: int = 720,
              height: int = 260) -> str:
    """Grouped bars; `series` = [(name, values per category), ...]. Empty data → a short note."""
    values = [Decimal(v or 0) for _, row in series for v in row]
    if not categories or not values or max(values) <= 0:
        return f'<p class="help">{escape(title)}: нет данных для графика.</p>'
    top = max(values)
    left, right, upper, lower = 10, 10, 48, 30
    plot_w, plot_h = width - left - right, height - upper - lower
    group_w = plot_w / len(categories)
    bar_w = max(min(group_w * 0.8 / len(series), 60), 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}" style="font: 11px sans-serif">',
             f'<text x="{left}" y="16" font-weight="bold">{escape(title)}</text>']
    for s_index, (name, _) in enumerate(series):  # legend: a line under the title
        x = left + 150 * s_index
        color = PALETTE[s_index % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="22" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14}" y="31">{escape(name)}</text>')
    base_y = upper + plot_h
    parts.append(f'<line x1="{left}" y1="{base_y}" x2="{width - right}" y2="{base_y}" stroke="#999"/>')
    for c_index, category in enumerate(categories):
        group_x = left + c_index * group_w + (group_w - bar_w * len(series)) / 2
        for s_index, (_, row) in enumerate(series):
            value = Decimal(row[c_index] or 0)
            bar_h = float(value / top) * plot_h if value > 0 else 0
            x, y = group_x + s_index * bar_w, base_y - bar_h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{bar_h:.1f}" '
                         f'fill="{PALETTE[s_index % len(PALETTE)]}"><title>{escape(category)}: '
                         f'{_fmt(value)}</title></rect>')
            if value:
                parts.append(f'<text x="{x + (bar_w - 1) / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                             f'font-size="9">{_fmt(value)}</text>')
        label_x = left + c_index * group_w + group_w / 2
        parts.append(f'<text x="{label_x:.1f}" y="{base_y + 14}" text-anchor="middle">{escape(category)}</text>')
    parts.append("</svg>")
    return "".join(parts)
