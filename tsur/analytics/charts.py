"""Charts drawn on the server as SVG: the same markup in a web page, in the report's HTML and in its
PDF (WeasyPrint draws inline SVG), with no script and nothing fetched.

Two shapes cover what the center reads: a line chart of weekly series (trends) and a horizontal bar
chart of labelled values (ratings, top problems), optionally with the change against a previous
period. Text is escaped; sizes are in user units and the SVG scales to its container."""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

# Colours that stay apart in print and for the common colour-vision deficiencies
PALETTE = ("#1f5fa8", "#d9822b", "#2a9d5c", "#b23a48", "#6b4c9a", "#5c6b73")
INK = "#222"
GRID = "#d6dbe0"
MUTED = "#6b7780"


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]


def _number(value: float) -> str:
    """A figure as people read it: thousands apart by a thin space, at most one decimal."""
    if value is None:
        return "—"
    if abs(value - round(value)) < 0.05:
        return f"{round(value):,}".replace(",", "\u202f")
    return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above the value: the axis ends on a round figure."""
    if value <= 0:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str = "",
    width: int = 720,
    height: int = 260,
    unit: str = "",
) -> SafeString:
    """Series over the same labels (e.g. weeks), each a line with its points, a legend on top, four
    gridlines with their values on the left and every n-th label below so that they do not overlap."""
    left, right, top, bottom = 56, 16, 34 if series else 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((v for s in series for v in s.values if v is not None), default=0)
    ceiling = _nice_ceiling(highest)
    count = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / ceiling)

    parts = [_open(width, height, title)]
    for k in range(5):
        value = ceiling * k / 4
        gy = y(value)
        parts.append(f'<line x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="11" fill="{MUTED}">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    every = max(1, -(-count // 12))
    for i, label in enumerate(labels):
        if i % every == 0 or i == count - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" '
                f'fill="{MUTED}">{escape(str(label))}</text>'
            )
    for n, one in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = [(x(i), y(v)) for i, v in enumerate(one.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{colour}"/>')
        lx = left + n * 190
        parts.append(f'<rect x="{lx}" y="8" width="14" height="4" fill="{colour}" rx="1"/>')
        parts.append(f'<text x="{lx + 20}" y="14" font-size="12" fill="{INK}">{escape(one.label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text above is escaped


def bar_chart(
    rows: Sequence[tuple[str, float, float | None]],
    *,
    title: str = "",
    width: int = 720,
    unit: str = "",
    better: str = "higher",
) -> SafeString:
    """One horizontal bar per (label, value, change) row, the value at its end and the change against
    the previous period beside it, green when it went the better way (``better`` is "higher" or
    "lower"), red otherwise. Long labels are cut with an ellipsis; the full text is the bar's title."""
    row_h, label_w, right = 26, 260, 120
    height = max(len(rows), 1) * row_h + 8
    plot_w = width - label_w - right
    highest = max((abs(v) for _, v, _ in rows if v is not None), default=0) or 1
    parts = [_open(width, height, title)]
    for i, (label, value, change) in enumerate(rows):
        top = 4 + i * row_h
        short = label if len(label) <= 38 else label[:37] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{top + 17}" text-anchor="end" font-size="12" fill="{INK}">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
        )
        length = plot_w * (abs(value or 0) / highest)
        parts.append(
            f'<rect x="{label_w}" y="{top + 5}" width="{length:.1f}" height="{row_h - 10}" '
            f'fill="{PALETTE[0]}" rx="2"/>'
        )
        parts.append(
            f'<text x="{label_w + length + 6:.1f}" y="{top + 17}" font-size="12" fill="{INK}">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
        if change is not None and abs(change) >= 0.05:
            good = (change > 0) == (better == "higher")
            colour = "#2a7a3b" if good else "#b23a48"
            sign = "+" if change > 0 else "−"
            parts.append(
                f'<text x="{width - 4}" y="{top + 17}" text-anchor="end" font-size="12" fill="{colour}">'
                f"{sign}{escape(_number(abs(change)))}{escape(unit)}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text above is escaped


def _open(width: int, height: int, title: str) -> str:
    label = f' aria-label="{escape(title, quote=True)}"' if title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" font-family="DejaVu Sans, Arial, sans-serif"{label}>'
    )
