"""The recommendation as a worksheet: one row per line with the figures a buyer checks
(stock, orders on the way, forecast, cover, target, suggested and drafted quantity,
pull-forward, containers), sorted, searched and filtered on the server, with totals for the
page and for everything selected, and exported as CSV or XLSX with exactly those rows.

The page, the JSON route and both exports read `worksheet()`: one definition of each column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, computed_field
from sqlalchemy.ext.asyncio import AsyncSession

from services.product_detail import open_arrivals
from services.risk import LABELS, Risk
from store import customer_settings as settings_repo
from store import drafts as drafts_repo
from store import orders as orders_repo
from store import recommendations as recommendations_repo
from store import snapshots


class SortKey(StrEnum):
    POSITION = "position"  # the engine's order: urgent first, by run-out
    PRODUCT = "product"
    ON_HAND = "on_hand"
    ON_ORDER = "on_order"
    FORECAST = "forecast"
    COVER_NOW = "cover_now"
    COVER_AT_ARRIVAL = "cover_at_arrival"
    TARGET = "target"
    SUGGESTED = "suggested"
    QUANTITY = "quantity"
    PULL_FORWARD = "pull_forward"
    CONTAINER = "container"


class LineFilter(StrEnum):
    ALL = "all"
    URGENT = "urgent"
    EDITED = "edited"
    PULLED_FORWARD = "pulled_forward"


class WorksheetQuery(BaseModel):
    sort: SortKey = SortKey.POSITION
    descending: bool = False
    search: str = Field(default="", max_length=100, description="Code or name contains")
    show: LineFilter = LineFilter.ALL
    container: int | None = Field(default=None, ge=1, description="Only this container's lines")


class WorksheetRow(BaseModel):
    position: int
    product_code: str
    name: str
    urgent: bool
    urgency_reason: str | None
    pack_size: int
    moq: int
    on_hand: int | None
    on_order: int
    next_arrival: date | None = Field(description="Earliest ETA of an open order of the product")
    forecast_weekly: float | None
    cover_now_weeks: float | None = Field(description="(on hand + on order) / forecast")
    cover_at_arrival_weeks: float | None
    arrival_date: date | None = Field(description="When an order placed today arrives")
    target_cartons: int | None = Field(description="Target stock at arrival, safety included")
    suggested: int
    quantity: int = Field(description="The draft's quantity where edited, else the suggestion")
    edited: bool
    pull_forward: int = Field(description="Cartons ordered ahead of need to fill a container")
    containers: list[int]
    text: str = ""
    risk: str | None = Field(default=None, description="services.risk.Risk of the product")
    value: Decimal | None = Field(
        default=None, description="The suggested quantity's value (None: no price)"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def risk_label(self) -> str | None:
        return None if self.risk is None else LABELS[Risk(self.risk)]


class WorksheetTotals(BaseModel):
    lines: int
    suggested: int
    quantity: int
    pull_forward: int
    urgent: int
    edited: int
    value: Decimal | None = Field(default=None, description="Of the priced suggestions")


class DraftLine(BaseModel):
    quantity: int
    suggested: int
    container: int | None = Field(description="The (last) container the line is in")


class AddedLine(BaseModel):
    """A product the version does not order that the draft adds."""

    product_code: str
    name: str
    quantity: int
    pack_size: int
    moq: int


class Worksheet(BaseModel):
    version: int
    query: WorksheetQuery
    rows: list[WorksheetRow]
    total: int = Field(description="Rows the query selects (all pages)")
    page: int
    page_size: int
    page_totals: WorksheetTotals
    selected_totals: WorksheetTotals
    recommendation_totals: WorksheetTotals
    drafts: dict[str, DraftLine] = Field(
        description="Every drafted line of the version, the added products too"
    )
    added: list[AddedLine] = Field(
        default_factory=list, description="Products the draft adds (the version does not order)"
    )
    currency: str | None = Field(default=None, description="Of the values; None: no prices")


SORTERS: dict[SortKey, Callable[[WorksheetRow], Any]] = {
    SortKey.POSITION: lambda r: r.position,
    SortKey.PRODUCT: lambda r: r.product_code.casefold(),
    SortKey.ON_HAND: lambda r: r.on_hand,
    SortKey.ON_ORDER: lambda r: r.on_order,
    SortKey.FORECAST: lambda r: r.forecast_weekly,
    SortKey.COVER_NOW: lambda r: r.cover_now_weeks,
    SortKey.COVER_AT_ARRIVAL: lambda r: r.cover_at_arrival_weeks,
    SortKey.TARGET: lambda r: r.target_cartons,
    SortKey.SUGGESTED: lambda r: r.suggested,
    SortKey.QUANTITY: lambda r: r.quantity,
    SortKey.PULL_FORWARD: lambda r: r.pull_forward,
    SortKey.CONTAINER: lambda r: min(r.containers) if r.containers else None,
}


def _sorted(rows: list[WorksheetRow], query: WorksheetQuery) -> list[WorksheetRow]:
    """Stable: ties keep the engine's order. A missing figure sorts last either way."""
    key = SORTERS[query.sort]
    known = [r for r in rows if key(r) is not None]
    unknown = [r for r in rows if key(r) is None]
    known.sort(key=key, reverse=query.descending)
    return known + unknown


def _selected(rows: Sequence[WorksheetRow], query: WorksheetQuery) -> list[WorksheetRow]:
    needle = query.search.strip().casefold()
    out = []
    for row in rows:
        if (
            needle
            and needle not in row.product_code.casefold()
            and needle not in row.name.casefold()
        ):
            continue
        if query.show is LineFilter.URGENT and not row.urgent:
            continue
        if query.show is LineFilter.EDITED and not row.edited:
            continue
        if query.show is LineFilter.PULLED_FORWARD and not row.pull_forward:
            continue
        if query.container is not None and query.container not in row.containers:
            continue
        out.append(row)
    return out


def totals(rows: Sequence[WorksheetRow]) -> WorksheetTotals:
    return WorksheetTotals(
        lines=len(rows),
        suggested=sum(r.suggested for r in rows),
        quantity=sum(r.quantity for r in rows),
        pull_forward=sum(r.pull_forward for r in rows),
        urgent=sum(1 for r in rows if r.urgent),
        edited=sum(1 for r in rows if r.edited),
        value=sum((r.value for r in rows if r.value is not None), Decimal(0))
        if any(r.value is not None for r in rows)
        else None,
    )


def _row(
    position: int,
    line: Mapping[str, Any],
    drafts: Mapping[str, int],
    arrivals: Mapping[str, date],
    risks: Mapping[str, str],
) -> WorksheetRow:
    e: Mapping[str, Any] = line["explanation"] or {}
    code = line["product_code"]
    target = e.get("target_cartons")
    safety = e.get("safety_stock_cartons") or 0
    return WorksheetRow(
        position=position,
        product_code=code,
        name=line["name"],
        urgent=line["urgent"],
        urgency_reason=line["urgency_reason"],
        pack_size=line["pack_size"],
        moq=line["moq"],
        on_hand=e.get("stock_on_hand"),
        on_order=e.get("pipeline") or 0,
        next_arrival=arrivals.get(code),
        forecast_weekly=e.get("forecast_weekly"),
        cover_now_weeks=e.get("cover_now_weeks"),
        cover_at_arrival_weeks=e.get("cover_at_arrival_weeks"),
        arrival_date=e.get("arrival_date"),
        target_cartons=None if target is None else int(target) + int(safety),
        suggested=line["quantity"],
        quantity=drafts.get(code, line["quantity"]),
        edited=code in drafts,
        pull_forward=e.get("pull_forward_cartons") or 0,
        containers=list(line["containers"] or []),
        text=e.get("text", ""),
        risk=risks.get(code),
        value=None if line.get("value") is None else Decimal(str(line["value"])),
    )


async def next_arrivals(session: AsyncSession, customer_id: int, as_of: date) -> dict[str, date]:
    """Per product, when the first of its open orders arrives (as the product page says)."""
    settings = await settings_repo.get_or_create(session, customer_id)
    orders = await orders_repo.pipeline_orders(session, customer_id)
    return {
        code: arrivals[0].on
        for code, arrivals in open_arrivals(orders, as_of, settings.lead_time_weeks).items()
    }


async def worksheet(
    session: AsyncSession,
    customer_id: int,
    recommendation: Mapping[str, Any],
    query: WorksheetQuery,
    page: int = 1,
    page_size: int | None = 100,
) -> Worksheet:
    """`recommendation` is the version's header row (`recommendations_repo.header_row`);
    `page_size` None selects every row (the exports)."""
    rec_id = recommendation["id"]
    lines = await recommendations_repo.all_line_rows(session, rec_id)
    drafts = await drafts_repo.draft_of(session, rec_id)
    arrivals = await next_arrivals(session, customer_id, recommendation["as_of"])
    risks = await snapshots.risks_by_code(session, customer_id)
    rows = [_row(i, line, drafts, arrivals, risks) for i, line in enumerate(lines)]
    added = await _added(session, customer_id, drafts, {r.product_code for r in rows})
    chosen = _sorted(_selected(rows, query), query)
    if page_size is None:
        shown, page, size = chosen, 1, max(len(chosen), 1)
    else:
        size = page_size
        shown = chosen[(page - 1) * size : page * size]
    return Worksheet(
        version=recommendation["version"],
        query=query,
        rows=shown,
        total=len(chosen),
        page=page,
        page_size=size,
        page_totals=totals(shown),
        selected_totals=totals(chosen),
        recommendation_totals=totals(rows),
        drafts={
            r.product_code: DraftLine(
                quantity=r.quantity,
                suggested=r.suggested,
                container=r.containers[-1] if r.containers else None,
            )
            for r in rows
            if r.edited
        }
        | {
            a.product_code: DraftLine(quantity=a.quantity, suggested=0, container=None)
            for a in added
        },
        added=added,
        currency=(recommendation.get("totals") or {}).get("currency"),
    )


async def _added(
    session: AsyncSession, customer_id: int, drafts: Mapping[str, int], ordered: set[str]
) -> list[AddedLine]:
    """The draft's products the version does not order; one a later sync no longer lists is
    kept and said so, for the buyer to take out (an approval with it is refused)."""
    codes = sorted(code for code in drafts if code not in ordered)
    if not codes:
        return []
    known = {p.code: p for p in await snapshots.products_by_code(session, customer_id, codes)}
    return [
        AddedLine(
            product_code=code,
            name=known[code].name if code in known else GONE,
            quantity=drafts[code],
            pack_size=known[code].pack_size if code in known else 1,
            moq=known[code].moq if code in known else 0,
        )
        for code in codes
    ]


GONE = "(no longer in the customer's catalogue: take it out)"


# --- exports -----------------------------------------------------------------------------------

COLUMNS: list[tuple[str, Callable[[WorksheetRow], Any]]] = [
    ("Product", lambda r: r.product_code),
    ("Name", lambda r: r.name),
    ("Urgent", lambda r: "yes" if r.urgent else ""),
    ("Risk", lambda r: r.risk_label or ""),
    ("On hand", lambda r: r.on_hand),
    ("On order", lambda r: r.on_order),
    ("Next arrival", lambda r: r.next_arrival),
    (
        "Forecast / week",
        lambda r: None if r.forecast_weekly is None else round(r.forecast_weekly, 1),
    ),
    ("Cover with orders (weeks)", lambda r: _weeks(r.cover_now_weeks)),
    ("Cover at arrival (weeks)", lambda r: _weeks(r.cover_at_arrival_weeks)),
    ("Target", lambda r: r.target_cartons),
    ("Suggested", lambda r: r.suggested),
    ("Quantity", lambda r: r.quantity),
    ("Edited", lambda r: "yes" if r.edited else ""),
    ("Pull-forward", lambda r: r.pull_forward),
    ("Containers", lambda r: ", ".join(str(c) for c in r.containers)),
    ("Value (suggested)", lambda r: r.value),
]


def _weeks(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def export_rows(sheet: Worksheet) -> list[list[Any]]:
    """The header and one list per row, as both exports write them."""
    return [[title for title, _ in COLUMNS]] + [[get(r) for _, get in COLUMNS] for r in sheet.rows]
