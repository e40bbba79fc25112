"""Small inline SVG charts for the product page (no plotting library, no JavaScript).

Every number is formatted by us and every text is escaped, so the SVG is safe to embed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from typing import Protocol

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 56, 28, 12


class Point(Protocol):
    @property
    def week_start(self) -> object: ...

    @property
    def cartons(self) -> int: ...


def _frame(title: str, top: float, bottom: float, body: list[str], labels: list[str]) -> str:
    plot_h = HEIGHT - BOTTOM - TOP
    y_top, y_zero = f"{top:,.0f}", f"{bottom:,.0f}"
    return "".join(
        [
            f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
            'class="chart" preserveAspectRatio="xMidYMid meet">',
            f"<title>{escape(title)}</title>",
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" class="axis"/>',
            f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH}" y2="{TOP + plot_h}" '
            'class="axis"/>',
            f'<text x="{LEFT - 6}" y="{TOP + 10}" class="tick" text-anchor="end">{y_top}</text>',
            f'<text x="{LEFT - 6}" y="{TOP + plot_h}" class="tick" text-anchor="end">'
            f"{y_zero}</text>",
            *body,
            *labels,
            "</svg>",
        ]
    )


def _scale(value: float, low: float, high: float) -> float:
    plot_h = HEIGHT - BOTTOM - TOP
    span = high - low or 1.0
    return TOP + plot_h * (1 - (value - low) / span)


def _x_labels(points: Sequence[Point], xs: list[float]) -> list[str]:
    """First, middle and last week; the outer labels align inwards so none is clipped."""
    if not points:
        return []
    last = len(points) - 1
    anchors = {0: "start", last // 2: "middle", last: "end"}
    return [
        f'<text x="{xs[i]:.1f}" y="{HEIGHT - 8}" class="tick" text-anchor="{anchor}">'
        f"{escape(str(points[i].week_start))}</text>"
        for i, anchor in sorted(anchors.items())
    ]


class Delivery(Protocol):
    @property
    def on(self) -> date: ...

    @property
    def cartons(self) -> int: ...

    @property
    def order(self) -> str: ...


def _level(y: float, css: str, text: str) -> list[str]:
    return [
        f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH}" y2="{y:.1f}" class="{css}"/>',
        f'<text x="{WIDTH - 4}" y="{y - 4:.1f}" class="tick" text-anchor="end">'
        f"{escape(text)}</text>",
    ]


def stock_chart(
    points: Sequence[Point],
    target: int | None,
    *,
    safety: int | None = None,
    arrivals: Sequence[Delivery] = (),
) -> str:
    """Projected stock per week as a line; the target and the safety stock as dashed lines;
    each open order's arrival as a marked tick with its cartons."""
    values = [p.cartons for p in points]
    high = max([*values, target or 0, safety or 0, 1]) * 1.1
    low = 0
    n = max(len(points) - 1, 1)
    xs = [LEFT + (WIDTH - LEFT - 8) * i / n for i in range(len(points))]
    line = " ".join(f"{x:.1f},{_scale(v, low, high):.1f}" for x, v in zip(xs, values, strict=True))
    body = [f'<polyline points="{line}" class="stock"/>']
    if target is not None:
        body += _level(_scale(target, low, high), "target", f"target {target:,}")
    if safety:
        body += _level(_scale(safety, low, high), "safety", f"safety {safety:,}")
    first = points[0].week_start if points else None
    by_week: dict[int, list[Delivery]] = {}
    if isinstance(first, date):
        for a in arrivals:
            # The week the projection books it in (see services.product_detail).
            week = max((a.on - first).days // 7, 0)
            if week <= len(points) - 1:
                by_week.setdefault(week, []).append(a)
    for week, landing in sorted(by_week.items()):
        x = LEFT + (WIDTH - LEFT - 8) * week / n
        cartons = sum(a.cartons for a in landing)
        what = "; ".join(f"{a.order}: {a.cartons:,} on {a.on.isoformat()}" for a in landing)
        body.append(
            f'<g class="arrival"><line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" '
            f'y2="{HEIGHT - BOTTOM}"/><text x="{x + 3:.1f}" y="{TOP + 10}" class="tick">'
            f"+{cartons:,}</text><title>{escape(what)}</title></g>"
        )
    return _frame(
        "Projected stock with open orders arriving, against the target and the safety stock",
        high,
        low,
        body,
        _x_labels(points, xs),
    )


def shipments_chart(points: Sequence[Point], forecast: float | None = None) -> str:
    """Cartons shipped per week as bars, with the weekly forecast over them."""
    values = [p.cartons for p in points]
    high = max([*values, forecast or 0, 1]) * 1.1
    count = max(len(points), 1)
    step = (WIDTH - LEFT - 8) / count
    base = _scale(0, 0, high)
    bars = [
        f'<rect x="{LEFT + i * step + 1:.1f}" y="{_scale(v, 0, high):.1f}" '
        f'width="{max(step - 2, 1):.1f}" height="{base - _scale(v, 0, high):.1f}" class="bar">'
        f"<title>{escape(str(points[i].week_start))}: {v:,} cartons</title></rect>"
        for i, v in enumerate(values)
    ]
    xs = [LEFT + i * step + step / 2 for i in range(len(points))]
    if forecast:
        bars += _level(_scale(forecast, 0, high), "forecast", f"forecast {forecast:,.0f}/week")
    return _frame(
        "Cartons shipped per week, with the forecast", high, 0, bars, _x_labels(points, xs)
    )


BAR_ROW, BAR_LABEL = 22, 180


def bar_chart(title: str, items: Sequence[tuple[str, float]], unit: str = "") -> str:
    """One horizontal bar per (label, value), largest scale at the right, each bar labelled
    with its value; for comparisons across customers."""
    height = TOP + BAR_ROW * max(len(items), 1) + 8
    high = max([v for _, v in items] + [1e-9])
    span = WIDTH - BAR_LABEL - 70
    body = []
    for i, (label, value) in enumerate(items):
        y = TOP + BAR_ROW * i
        w = span * value / high
        shown = f"{value:,.1f}".removesuffix(".0") + (f" {unit}" if unit else "")
        body.append(
            f'<text x="{BAR_LABEL - 6}" y="{y + 14}" class="tick" text-anchor="end">'
            f"{escape(label[:28])}</text>"
            f'<rect x="{BAR_LABEL}" y="{y + 3}" width="{w:.1f}" height="{BAR_ROW - 6}" '
            f'class="bar"><title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{BAR_LABEL + w + 4:.1f}" y="{y + 14}" class="tick">{escape(shown)}</text>'
        )
    if not items:
        body.append(f'<text x="{LEFT}" y="{TOP + 14}" class="tick">nothing in this period</text>')
    return "".join(
        [
            f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
            'class="chart bars" preserveAspectRatio="xMidYMid meet">',
            f"<title>{escape(title)}</title>",
            *body,
            "</svg>",
        ]
    )
