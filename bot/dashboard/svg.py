# Bar charts as inline SVG, written by hand from the numbers: no script, no external asset,
# a few hundred bytes a chart (a cheap phone on a slow line), readable by a screen reader
# (role="img", a <title> and a <desc> listing every value; the page also has the table).
from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from hashlib import sha1
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 28, 36
BAR = "#1f5f8b"  # 7.0:1 on white
LOW = "#a4262c"  # the weakest unsur
TARGET = "#222222"


def bar_chart(title: str, values: Sequence[tuple[str, Decimal | None]], *, target: Decimal | None,
              fmt: Callable[[Decimal | None], str], top: Decimal | None = None,
              highlight: str | None = None) -> Markup:
    """One bar per (label, value); None draws no bar and says "–". `top` is the scale's
    maximum (default 100, or the largest value if above it)."""
    known = [v for _, v in values if v is not None]
    scale = top if top is not None else max([Decimal(100), *known, *([target] if target is not None else [])])
    scale = scale or Decimal(1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(values))

    def y(v: Decimal) -> float:
        return TOP + plot_h - float(min(v, scale) / scale) * plot_h

    ref = "grafik-" + sha1(title.encode()).hexdigest()[:8]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{ref}">',
        f'<title id="{ref}">{escape(title)}</title>',
        "<desc>" + escape("; ".join(f"{label}: {fmt(v)}" for label, v in values)
                          + (f"; target {fmt(target)}" if target is not None else "")) + "</desc>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#555"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="12">{escape(fmt(scale))}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="12">0</text>',
    ]
    for i, (label, v) in enumerate(values):
        cx = LEFT + slot * i + slot / 2
        bar_w = min(56.0, slot * 0.6)
        if v is not None:
            top_y = y(v)
            colour = LOW if highlight is not None and label == highlight else BAR
            parts.append(f'<rect x="{cx - bar_w / 2:.1f}" y="{top_y:.1f}" width="{bar_w:.1f}" '
                         f'height="{TOP + plot_h - top_y:.1f}" fill="{colour}"/>')
            parts.append(f'<text x="{cx:.1f}" y="{top_y - 5:.1f}" text-anchor="middle" font-size="12">'
                         f"{escape(fmt(v))}</text>")
        else:
            parts.append(f'<text x="{cx:.1f}" y="{TOP + plot_h - 5}" text-anchor="middle" font-size="12">–</text>')
        parts.append(f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" font-size="12">'
                     f"{escape(label)}</text>")
    if target is not None:
        ty = y(target)
        parts.append(f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" stroke="{TARGET}" '
                     'stroke-dasharray="6 4" stroke-width="2"/>')
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{ty - 6:.1f}" text-anchor="end" font-size="12">'
                     f"Target {escape(fmt(target))}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
