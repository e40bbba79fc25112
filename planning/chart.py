"""A hand-written SVG of stock over time from a backtest (no plotting dependency).

Returns the SVG text; the CLI writes it to a file.
"""

from __future__ import annotations

from html import escape

from planning.backtest import BacktestReport, StockSeries

PANEL_W, PANEL_H, PAD = 460, 200, 40
COLOURS = {
    "baseline": "#9e9e9e",
    "default": "#1565c0",
    "oracle": "#2e7d32",
    "demand": "#ef6c00",
}


def _polyline(values: list[int], top: float, x0: float, y0: float, colour: str, dash: str) -> str:
    n = max(len(values) - 1, 1)
    points = " ".join(
        f"{x0 + PANEL_W * i / n:.1f},{y0 + PANEL_H * (1 - v / top):.1f}"
        for i, v in enumerate(values)
    )
    return (
        f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" '
        f'stroke-dasharray="{dash}" points="{points}"/>'
    )


def _panel(s: StockSeries, x0: float, y0: float) -> str:
    top = max([*s.baseline, *s.default, *s.oracle, *s.weekly_demand, 1]) * 1.05
    parts = [
        f'<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" fill="#fafafa" '
        'stroke="#ccc"/>',
        f'<text x="{x0}" y="{y0 - 8}" font-size="13">{escape(s.product_code)} '
        f"({escape(s.pattern or 'product')})</text>",
        f'<text x="{x0 - 4}" y="{y0 + 10}" font-size="10" text-anchor="end">{int(top):,}</text>',
        f'<text x="{x0 - 4}" y="{y0 + PANEL_H}" font-size="10" text-anchor="end">0</text>',
        _polyline(s.weekly_demand, top, x0, y0, COLOURS["demand"], "3,3"),
        _polyline(s.baseline, top, x0, y0, COLOURS["baseline"], ""),
        _polyline(s.default, top, x0, y0, COLOURS["default"], ""),
    ]
    if s.oracle:
        parts.append(_polyline(s.oracle, top, x0, y0, COLOURS["oracle"], "6,2"))
    for i, (b, d) in enumerate(zip(s.baseline, s.default, strict=False)):
        x = x0 + PANEL_W * i / max(len(s.baseline) - 1, 1)
        if b == 0:
            parts.append(f'<circle cx="{x:.1f}" cy="{y0 + PANEL_H - 3}" r="2.5" fill="#9e9e9e"/>')
        if d == 0:
            parts.append(f'<circle cx="{x:.1f}" cy="{y0 + PANEL_H - 9}" r="2.5" fill="#1565c0"/>')
    return "\n".join(parts)


def stock_chart(report: BacktestReport) -> str:
    cols = 2
    rows = max((len(report.series) + cols - 1) // cols, 1)
    width = cols * (PANEL_W + 2 * PAD) + PAD
    height = rows * (PANEL_H + 2 * PAD) + 70
    title = (
        f"{escape(report.customer)}: end-of-week stock (cartons), {report.weeks} weeks from "
        f"{report.start.isoformat()}, re-planned every {report.cadence_weeks} week(s)"
    )
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif">',
        f'<text x="{PAD}" y="24" font-size="15" font-weight="bold">{title}</text>',
        f'<text x="{PAD}" y="44" font-size="12">'
        f'<tspan fill="{COLOURS["default"]}">— default policy</tspan>   '
        f'<tspan fill="{COLOURS["oracle"]}">— — oracle (true demand as forecast)</tspan>   '
        f'<tspan fill="{COLOURS["baseline"]}">— baseline (trailing average, last container '
        "as it is)</tspan>   "
        f'<tspan fill="{COLOURS["demand"]}">- - true weekly demand</tspan>   '
        "dots: weeks ending empty</text>",
    ]
    for k, series in enumerate(report.series):
        x0 = PAD + (k % cols) * (PANEL_W + 2 * PAD) + PAD
        y0 = 70 + (k // cols) * (PANEL_H + 2 * PAD) + PAD / 2
        body.append(_panel(series, x0, y0))
    body.append("</svg>")
    return "\n".join(body)
