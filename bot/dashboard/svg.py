# Bar charts as inline SVG, written by hand from the numbers: no script, no external asset,
# a few hundred bytes a chart (a cheap phone on a slow line), readable by a screen reader
# (role="img", a <title> and a <desc> listing every value; the page also has the table).
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


MAP_W, MAP_H, MAP_PAD = 560, 380, 70
OPEN = "#1f5f8b"
LATE = "#a4262c"
EMPTY = "#6b6b6b"


@dataclass(frozen=True)
class DesaMark:
    """One desa on the map: its approximate centroid and its open and overdue complaints."""

    name: str
    lat: float
    lon: float
    open: int
    overdue: int


def _sector(cx: float, cy: float, r: float, share: float) -> str:
    """The red part of a circle: `share` of it, clockwise from twelve o'clock."""
    if share >= 1:
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{LATE}"/>'
    angle = 2 * math.pi * share
    x, y = cx + r * math.sin(angle), cy - r * math.cos(angle)
    large = 1 if share > 0.5 else 0
    return (f'<path d="M{cx:.1f},{cy:.1f} L{cx:.1f},{cy - r:.1f} A{r:.1f},{r:.1f} 0 {large} 1 {x:.1f},{y:.1f} Z" '
            f'fill="{LATE}"/>')


def desa_map(title: str, marks: Sequence[DesaMark], *, fmt: Callable[[int], str]) -> Markup:
    """Desa as circles at their centroids (equirectangular, north up, scaled to fit), the
    area growing with the open complaints, the red sector the overdue share, each labelled.
    Desa aggregates only: no complaint's own point is ever drawn."""
    lats, lons = [m.lat for m in marks], [m.lon for m in marks]
    span_lat = max(max(lats) - min(lats), 1e-3) if marks else 1.0
    # A degree of longitude is cos(latitude) of one of latitude: keep the shape true.
    scale_lon = math.cos(math.radians(sum(lats) / len(lats))) if marks else 1.0
    span_lon = max((max(lons) - min(lons)) * scale_lon, 1e-3) if marks else 1.0
    unit = min((MAP_W - 2 * MAP_PAD) / span_lon, (MAP_H - 2 * MAP_PAD) / span_lat)
    mid_lat = (max(lats) + min(lats)) / 2 if marks else 0.0
    mid_lon = (max(lons) + min(lons)) / 2 if marks else 0.0
    largest = max([m.open for m in marks] + [1])
    ref = "peta-" + sha1(title.encode()).hexdigest()[:8]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_W} {MAP_H}" width="100%" '
        f'role="img" aria-labelledby="{ref}">',
        f'<title id="{ref}">{escape(title)}</title>',
        "<desc>" + escape("; ".join(f"{m.name}: {fmt(m.open)} terbuka, {fmt(m.overdue)} terlambat"
                                    for m in marks)) + "</desc>",
        f'<rect x="0.5" y="0.5" width="{MAP_W - 1}" height="{MAP_H - 1}" fill="#f7f9fb" stroke="#8a8a8a"/>',
    ]
    for m in marks:
        cx = MAP_W / 2 + (m.lon - mid_lon) * scale_lon * unit
        cy = MAP_H / 2 - (m.lat - mid_lat) * unit
        if m.open:
            r = 8 + 26 * math.sqrt(m.open / largest)
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{OPEN}"/>')
            if m.overdue:
                parts.append(_sector(cx, cy, r, m.overdue / m.open))
        else:
            r = 5
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="#fff" stroke="{EMPTY}" '
                         'stroke-width="2"/>')
        parts.append(f'<text x="{cx:.1f}" y="{cy + r + 14:.1f}" text-anchor="middle" font-size="12" '
                     f'font-weight="bold">{escape(m.name)}</text>')
        parts.append(f'<text x="{cx:.1f}" y="{cy + r + 28:.1f}" text-anchor="middle" font-size="11">'
                     f"{escape(fmt(m.open))} terbuka, {escape(fmt(m.overdue))} terlambat</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
