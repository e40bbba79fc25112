"""What to do with the last, partly filled container: top it up, ship it, or wait a review.

Packing leaves every container full but the last. Policies (`settings.last_container`):
- `auto` (default): top it up with what the products that run out next would order
  within one container's worth of weeks (the weeks of the customer's demand a container
  holds, or one review period if longer): cover at arrival up to target + safety + that,
  never above `max_cover_weeks`, and the top-up as a whole no further than the
  customer's stock as a whole allows (`room`: a steady product's stock above its own
  ceiling counts against it). Full: ship it. Otherwise weigh waiting against shipping
  it part-empty: waiting a review loses the demand its products cannot meet until the
  next review's order arrives (`waiting_loss`), shipping wastes its empty space; each lost
  carton weighs `lost_sale_weight` empty carton slots. Ship it if the loss weighs more
  (topped up to full from the products' own ceilings: it ships anyway), else drop it: its
  products wait a review, and their need fills a container later. Until the plan has a
  consumption history (stock snapshots or the ERP's reports: a customer's first review),
  it ships the last container as packed: its forecast is read from shipments, which are
  orders, and neither stocking up nor holding needed cartons back on it is sound.
- `top_up`: pull forward up to `max_cover_weeks`, then drop it if still below
  `min_fill_pct` and nothing in it is urgent (the rule before `auto`; it lifts cover far
  above the target in a loop).
- `drop`: drop it when below `min_fill_pct` and not urgent.
- `keep`: ship it as it is.
A shipped container below `min_fill_pct` gets a note with what it costs in fill (`explain`).
So `auto` never lifts cover beyond one container's worth: what the containers force.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from planning.catalog import Catalog
from planning.forecast import SHORT_MEAN, Forecast
from planning.history import BoolArray, FloatArray, IntArray
from planning.leadtime import LeadTime
from planning.packing import Box, Limits, PackItem, effective_moq, pack_lines, top_up
from planning.policy import Targets
from planning.projection import cover_from, cumulative_from
from planning.settings import LastContainerPolicy, PlanSettings

FULL_ENOUGH = 0.99  # `auto` ships a topped-up container at this fill without a second look
WAIT_RESERVE = 0.5  # share of its safety stock a product should keep while it waits


class Outcome(StrEnum):
    NONE = "none"  # no partial container
    SHIPPED = "shipped"  # shipped (topped up first, where the policy does)
    TOPPED_UP = "topped_up"  # topped up to full
    DROPPED = "dropped"  # removed: its products wait a review
    AS_PACKED = "as_packed"  # `auto` before any consumption history: shipped as packed


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    pulled: dict[str, int]  # cartons pulled forward, by product code
    fill_pct: float | None  # the open container's fill when decided (after any top-up)
    waiting_loss: float | None = None  # `auto`: cartons waiting a review would lose


def container_weeks(settings: PlanSettings, catalog: Catalog, fc: Forecast, tg: Targets) -> float:
    """Weeks of the customer's whole demand one container holds, in its binding limit."""
    rate = tg.target / np.maximum(tg.target_weeks, 1e-9)  # mean weekly forecast after arrival
    cartons = float(rate.sum())
    if cartons <= 0:
        return math.inf
    weeks = settings.container_capacity_cartons / cartons
    for limit, per_carton in (
        (settings.container_max_weight_kg, catalog.weight),
        (settings.container_max_volume_m3, catalog.volume),
    ):
        if limit is not None:
            load = float(rate @ np.array([x or 0.0 for x in per_carton]))
            if load > 0:
                weeks = min(weeks, limit / load)
    return weeks


def ceilings(
    settings: PlanSettings,
    catalog: Catalog,
    fc: Forecast,
    tg: Targets,
    lead: LeadTime,
    *,
    one_container: bool,
) -> FloatArray:
    """How much stock at arrival pull-forward may reach, per product, in cartons:
    `max_cover_weeks` of forecast, or (`auto`) target + safety + the forecast of one
    container's worth of weeks (or of one review period, if longer) after the target."""
    window = fc.window(lead.whole)
    n = len(tg.target)
    cap = cumulative_from(window, lead.frac, np.full(n, settings.max_cover_weeks))
    if not one_container:
        return cap
    worth = max(settings.review_period_weeks, container_weeks(settings, catalog, fc, tg))
    worth = min(worth, settings.max_cover_weeks)
    beyond = cumulative_from(window, lead.frac, tg.target_weeks + worth) - tg.target
    return np.asarray(np.minimum(tg.target + tg.safety + beyond, cap))


def room(
    ceiling: FloatArray,
    tg: Targets,
    base: IntArray,
    poolable: BoolArray,
    steady: BoolArray,
) -> int:
    """Cartons the customer's stock as a whole leaves below the pull-forward ceilings: each
    product's ceiling less its stock at arrival and its order, summed over the products
    that may be pulled forward. Forecast errors leave some products below their ceiling
    and others above it; per product, only the first would show, and a container would
    fill (and ship) from them while the customer holds more than the ceilings in all. So a
    steady product's stock above its ceiling counts against the room. An intermittent or
    lumpy product's does not: its stock is held for its next lump, which a mean weekly
    rate does not measure."""
    gap = ceiling - tg.stock_at_arrival - base
    gap = np.where(steady, gap, np.maximum(gap, 0.0))
    return max(math.floor(float(gap[poolable].sum())), 0)


def candidates(
    catalog: Catalog,
    fc: Forecast,
    tg: Targets,
    base: IntArray,
    eligible: BoolArray,
    ceiling: FloatArray,
    lead: LeadTime,
) -> Iterator[tuple[PackItem, int, int]]:
    """Products that run out next, each with how much it may take up to `ceiling`
    (lazily: the container usually fills after a few). Short-history products are not
    pulled forward: stocking up on an unproven product is the risk to avoid."""
    after = tg.stock_at_arrival + base
    cover_after = cover_from(fc.window(lead.whole), lead.frac, after)
    allowance = np.floor((ceiling - after) / catalog.pack) * catalog.pack
    ok = eligible & (fc.method != SHORT_MEAN) & (allowance > 0)
    rows = np.flatnonzero(ok)
    rows = rows[np.argsort(cover_after[rows], kind="stable")]
    for r in rows.tolist():
        pack = int(catalog.pack[r])
        minimum = 0 if base[r] > 0 else effective_moq(pack, int(catalog.moq[r]))
        yield catalog.pack_item(r, int(allowance[r])), pack, minimum


def waiting_loss(
    rows: IntArray,
    kept: IntArray,
    fc: Forecast,
    tg: Targets,
    arrivals: FloatArray,
    lead: LeadTime,
    settings: PlanSettings,
) -> float:
    """Cartons of demand the products of `rows` would lose if only `kept` (per row) of
    their order shipped now and the rest waited a review: their forecast between today's
    arrival and the next review's, beyond the stock they would have then (keeping
    WAIT_RESERVE of their safety stock in hand against forecast error)."""
    review = settings.review_period_weeks
    window = fc.window(lead.whole)
    used = cumulative_from(window, lead.frac, np.full(len(tg.target), review))[rows]
    last = min(int(np.floor(lead.weeks + review + 1e-9)), arrivals.shape[1] - 1)
    later = arrivals[rows, lead.whole + 1 : last + 1].sum(axis=1)
    have = tg.stock_at_arrival[rows] + kept[rows] + later
    short = used + WAIT_RESERVE * tg.safety[rows] - have
    return float(np.maximum(short, 0.0).sum())


def decide(
    settings: PlanSettings,
    catalog: Catalog,
    boxes: list[Box],
    open_box: Box | None,
    *,
    fc: Forecast,
    tg: Targets,
    lead: LeadTime,
    base: IntArray,
    eligible: BoolArray,
    urgent: BoolArray,
    priority: IntArray,
    arrivals: FloatArray,
    limits: Limits,
    steady: BoolArray | None = None,
    shipments_only: bool = False,
) -> tuple[list[Box], Decision, IntArray, IntArray]:
    """Apply the last-container policy; returns the boxes to ship, the decision, cartons
    pulled forward and cartons deferred (both per product). `steady`: products whose
    demand is not intermittent or lumpy (`room`); None: all. `shipments_only`: the
    history is shipments alone (`auto` then ships the container as packed)."""
    n = len(catalog)
    pulled = np.zeros(n, dtype=np.int64)
    deferred = np.zeros(n, dtype=np.int64)
    if open_box is None:
        return boxes, Decision(Outcome.NONE, {}, None), pulled, deferred
    policy = settings.last_container
    if policy is LastContainerPolicy.AUTO and shipments_only:
        fill = 100 * open_box.fill_fraction()
        return boxes, Decision(Outcome.AS_PACKED, {}, fill), pulled, deferred
    index = {c: i for i, c in enumerate(catalog.codes)}
    added: dict[str, int] = {}
    auto = policy is LastContainerPolicy.AUTO
    ceiling = np.zeros(n)
    if policy is LastContainerPolicy.TOP_UP or auto:
        ceiling = ceilings(settings, catalog, fc, tg, lead, one_container=auto)
        budget = None
        if auto:
            poolable = eligible & (fc.method != SHORT_MEAN)
            budget = room(ceiling, tg, base, poolable, poolable if steady is None else steady)
        added = top_up(open_box, candidates(catalog, fc, tg, base, eligible, ceiling, lead), budget)
        for code, qty in added.items():
            pulled[index[code]] += qty
    fill = 100 * open_box.fill_fraction()
    loss: float | None = None
    if policy is LastContainerPolicy.AUTO:
        if open_box.fill_fraction() >= FULL_ENOUGH or _no_pack_fits(open_box, catalog, eligible):
            return boxes, Decision(Outcome.TOPPED_UP, added, fill), pulled, deferred
        rows = np.array([index[c] for c in open_box.lines], dtype=np.int64)
        kept = _kept(open_box, base, pulled, catalog, index)
        loss = waiting_loss(rows, kept, fc, tg, arrivals, lead, settings)
        empty = (1.0 - open_box.fill_fraction()) * settings.container_capacity_cartons
        if loss * settings.lost_sale_weight >= empty:
            # It ships: fill it from the products' own ceilings rather than waste the space.
            more = top_up(
                open_box, candidates(catalog, fc, tg, base + pulled, eligible, ceiling, lead)
            )
            for code, qty in more.items():
                pulled[index[code]] += qty
                added[code] = added.get(code, 0) + qty
            fill = 100 * open_box.fill_fraction()
            return boxes, Decision(Outcome.SHIPPED, added, fill, loss), pulled, deferred
    elif policy is LastContainerPolicy.KEEP or open_box.urgent or fill >= settings.min_fill_pct:
        outcome = Outcome.TOPPED_UP if added and open_box.full else Outcome.SHIPPED
        return boxes, Decision(outcome, added, fill), pulled, deferred
    kept = _kept(open_box, base, pulled, catalog, index)
    new_boxes, _ = pack_lines(
        catalog.pack_lines(priority[kept[priority] > 0], kept, urgent), limits
    )
    deferred = np.asarray(base - kept, dtype=np.int64)
    return new_boxes, Decision(Outcome.DROPPED, {}, fill, loss), np.zeros(n, np.int64), deferred


def _no_pack_fits(box: Box, catalog: Catalog, eligible: BoolArray) -> bool:
    """Whether the box is as full as packs allow: not one more pack of any orderable
    product fits (a container of 35 cartons holds at most 30 in packs of 6)."""
    rows = np.flatnonzero(eligible)
    pack = catalog.pack[rows]
    fits = pack <= box.limits.cartons - box.cartons
    if box.limits.weight_kg is not None:
        weight = np.array([catalog.weight[r] or 0.0 for r in rows.tolist()])
        fits &= pack * weight <= box.limits.weight_kg - box.weight_kg + 1e-9
    if box.limits.volume_m3 is not None:
        volume = np.array([catalog.volume[r] or 0.0 for r in rows.tolist()])
        fits &= pack * volume <= box.limits.volume_m3 - box.volume_m3 + 1e-9
    return not bool(fits.any())


def _kept(
    open_box: Box, base: IntArray, pulled: IntArray, catalog: Catalog, index: dict[str, int]
) -> IntArray:
    """Each product's order without its share in the open box: the rest rounded down to a
    pack multiple, or nothing below the MOQ (pulled-forward cartons are all in the box)."""
    keep = base.copy()
    for code, qty in open_box.lines.items():
        r = index[code]
        pack = int(catalog.pack[r])
        left = (int(base[r]) - (qty - int(pulled[r]))) // pack * pack
        keep[r] = left if left >= effective_moq(pack, int(catalog.moq[r])) else 0
    return keep
