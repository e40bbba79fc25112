"""Deterministic demo customers: products, a true demand process, and the history it produced.

Demand for product i on day t is drawn from a random stream keyed by (seed, customer, block of
364 days), so `demand(start, days)` returns the same numbers whatever window asks for them: the
history below, the simulator's clock and the planning backtest all read one process.

History is simulated day by day (vectorised over products): the customer consumes
min(stock, demand), reviews stock every `review_days` and orders up to a cover target in
multiples of the pack size, sizing orders by its trailing demand (what it could know then,
never the future); orders ship after a preparation week and arrive after the lead time, a
day or two late now and then, and later still with the spec's `late_share`. Shipments are
the ERP's delivery-note lines (what left the supplier, on the ship date), so stock,
pipeline, orders and shipments agree with one another. What was consumed and left on hand is
kept per week (`WeeklyActivity`) for the ERP's product-activity listing.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from pydantic import TypeAdapter

from erp.simulator.catalog import person_name, product_names
from erp.simulator.prices import price_list
from planning.models import (
    Contact,
    CreditStatus,
    CustomerProfile,
    ErpOrder,
    OrderStatus,
    PriceRow,
    Product,
    Shipment,
)

DEMO_SMALL = "K-10040"
DEMO_MEDIUM = "K-20400"
DEMO_LARGE = "K-34000"

EPOCH = date(2000, 1, 1)
BLOCK_DAYS = 364
HISTORY_DAYS = 3 * 364
PREP_DAYS = 7
DAYS_PER_MONTH = 365.25 / 12

PATTERNS: tuple[str, ...] = (
    "smooth",
    "trending",
    "seasonal",
    "intermittent",
    "lumpy",
    "new",
    "discontinued",
)
PATTERN_WEIGHTS = np.array([0.36, 0.14, 0.14, 0.14, 0.08, 0.07, 0.07])
SMOOTH, TRENDING, SEASONAL, INTERMITTENT, LUMPY, NEW, DISCONTINUED = range(len(PATTERNS))

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
TRAILING_DAYS = 84  # the customer's own reorder rule reads this much of its past demand


@dataclass(frozen=True)
class Lateness:
    """How the supplier's deliveries to a customer slip: `share` of orders arrive late, by
    1 + an exponential number of days of mean `mean_days - 1` (so `mean_days` on average).

    Draws are keyed by (seed, customer, order serial), so an order's slip does not depend
    on what else was drawn, and no lateness (`share` 0) draws nothing at all.
    """

    share: float = 0.0
    mean_days: float = 0.0

    def delay_days(self, seed: int, code: str, serial: int) -> int:
        if self.share <= 0:
            return 0
        rng = np.random.default_rng(
            np.random.SeedSequence([seed, zlib.crc32(code.encode()), serial, 0x1A7E])
        )
        if rng.random() >= self.share:
            return 0
        return 1 + round(float(rng.exponential(max(self.mean_days - 1.0, 0.0))))


@dataclass(frozen=True)
class CustomerSpec:
    code: str
    name: str
    n_products: int
    monthly_cartons: float = 60_000.0
    container_capacity_cartons: int = 90_000
    lead_time_weeks: int = 8
    review_days: int = 14
    timezone: str = "UTC"
    credit_status: CreditStatus = CreditStatus.OK
    history_days: int = HISTORY_DAYS
    cover_days: int = 42
    """Extra cover ordered above the reorder point; sets how often each item was reordered."""
    late_share: float = 0.0
    """Share of orders delivered after their ETA (history and live orders alike)."""
    late_days: float = 0.0
    """Mean slip of a late order, in days (exponential, at least one day)."""
    currency: str = "EUR"
    credit_limit: Decimal | None = None
    """None: the ERP states no limit."""
    open_balance: Decimal = Decimal(0)
    payment_terms: str = "NET30"

    def __post_init__(self) -> None:
        if not 0.0 <= self.late_share <= 1.0:
            raise ValueError(f"late_share must be between 0 and 1, not {self.late_share}")
        if self.late_days < 0 or (self.late_share > 0 and self.late_days <= 0):
            raise ValueError(
                f"late_days must be positive when late_share is set, not {self.late_days}"
            )

    @property
    def lateness(self) -> Lateness:
        return Lateness(share=self.late_share, mean_days=self.late_days)


DEMO_CUSTOMERS: list[CustomerSpec] = [
    CustomerSpec(
        code=DEMO_SMALL,
        name="Harbour Deli Supplies",
        n_products=40,
        monthly_cartons=14_000,
        container_capacity_cartons=20_000,
        lead_time_weeks=6,
        review_days=28,
        timezone="Europe/Lisbon",
    ),
    CustomerSpec(
        code=DEMO_MEDIUM,
        name="Northwind Grocers",
        n_products=400,
        monthly_cartons=70_000,
        lead_time_weeks=8,
        review_days=21,
        timezone="Europe/Berlin",
    ),
    CustomerSpec(
        code=DEMO_LARGE,
        name="Atlas Foodservice Group",
        n_products=4_000,
        monthly_cartons=200_000,
        lead_time_weeks=10,
        review_days=14,
        timezone="America/Chicago",
        cover_days=56,
    ),
]


def demo_spec(code: str) -> CustomerSpec:
    for spec in DEMO_CUSTOMERS:
        if spec.code == code:
            return spec
    raise KeyError(code)


def day_index(day: date) -> int:
    return (day - EPOCH).days


def day_of(index: int) -> date:
    return EPOCH + timedelta(days=index)


@dataclass(frozen=True)
class DemandParams:
    """Per-product parameters of the demand process (arrays of length n_products)."""

    pattern: IntArray
    rate: FloatArray  # mean cartons/day at `today` (at full life for new items)
    growth: FloatArray  # per year, trending items
    amplitude: FloatArray  # seasonal items
    peak_day: FloatArray  # day of year of the seasonal peak
    interval: FloatArray  # mean days between demands, intermittent and lumpy items
    launch: IntArray  # day index; new items have no demand before it
    end: IntArray  # day index; discontinued items have no demand from it
    today: int


def _mean(params: DemandParams, days: IntArray) -> FloatArray:
    """Expected cartons per day, shape (n_products, len(days)); effects touch their rows only."""
    t = days.astype(np.float64)[None, :]
    level = np.repeat(params.rate[:, None], len(days), axis=1)
    pattern = params.pattern
    rows = np.flatnonzero(pattern == TRENDING)
    if len(rows):
        level[rows] *= np.exp(params.growth[rows, None] * ((t - params.today) / 365.25))
    rows = np.flatnonzero(pattern == SEASONAL)
    if len(rows):
        phase = 2 * np.pi * ((t % 365.2425) - params.peak_day[rows, None]) / 365.2425
        level[rows] *= 1.0 + params.amplitude[rows, None] * np.cos(phase)
    rows = np.flatnonzero(pattern == NEW)
    if len(rows):
        since_launch = t - params.launch[rows, None]
        level[rows] *= np.clip(since_launch / 56.0, 0.0, 1.0)
    rows = np.flatnonzero(pattern == DISCONTINUED)
    if len(rows):
        to_end = params.end[rows, None] - t
        level[rows] *= np.where(to_end > 0, np.clip(0.4 + to_end / 300.0, 0.4, 1.0), 0.0)
    return level


class DemandProcess:
    """The customer's true behaviour: daily consumption of each product (blocks of days are
    drawn once and cached) and how late its deliveries run."""

    def __init__(
        self, params: DemandParams, *, seed: int, code: str, lateness: Lateness | None = None
    ) -> None:
        self.params = params
        self.seed, self.code = seed, code
        self.lateness = lateness or Lateness()
        """How late deliveries to this customer run (the world draws live orders' slips)."""
        self._key = [seed, zlib.crc32(code.encode())]
        self._blocks: dict[int, NDArray[np.int32]] = {}

    def mean(self, days: IntArray) -> FloatArray:
        return _mean(self.params, days)

    def _block(self, block: int) -> NDArray[np.int32]:
        cached = self._blocks.get(block)
        if cached is not None:
            return cached
        params = self.params
        days = np.arange(block * BLOCK_DAYS, (block + 1) * BLOCK_DAYS, dtype=np.int64)
        mean = _mean(params, days)
        rng = np.random.default_rng(np.random.SeedSequence([*self._key, block + 10_000]))
        out = np.zeros(mean.shape, dtype=np.int32)
        pattern = params.pattern
        continuous = np.flatnonzero(~np.isin(pattern, (INTERMITTENT, LUMPY)))
        base = mean[continuous]
        out[continuous] = rng.poisson(base * rng.gamma(8.0, 1 / 8.0, size=base.shape))
        for kind, shape in ((INTERMITTENT, None), (LUMPY, 1.1)):
            rows = pattern == kind
            if not rows.any():
                continue
            interval = params.interval[rows][:, None]
            occurs = rng.random(mean[rows].shape) < 1.0 / interval
            size_mean = np.maximum(mean[rows] * interval, 1.0)
            if shape is None:  # steady sizes: coefficient of variation about 0.4
                sizes = rng.gamma(6.0, size_mean / 6.0)
            else:  # erratic sizes
                sizes = size_mean * rng.lognormal(-(shape**2) / 2, shape, size=size_mean.shape)
            alive = mean[rows] > 0
            out[rows] = np.where(occurs & alive, np.maximum(np.rint(sizes), 1), 0)
        self._blocks[block] = out
        return out

    def __call__(self, start: date, days: int) -> NDArray[np.int32]:
        first = day_index(start)
        last = first + days
        blocks = range(first // BLOCK_DAYS, (last - 1) // BLOCK_DAYS + 1) if days > 0 else []
        if not blocks:
            return np.zeros((len(self.params.rate), 0), dtype=np.int32)
        joined = np.concatenate([self._block(b) for b in blocks], axis=1)
        offset = first - blocks[0] * BLOCK_DAYS
        return joined[:, offset : offset + days]


@dataclass
class OrderRecord:
    """An order as the ERP keeps it, including when it will really ship and arrive."""

    number: str
    status: OrderStatus
    ordered_on: date
    ship_on: date
    eta: date
    deliver_on: date
    lines: list[tuple[int, int]]  # (product index, cartons)
    reference: str | None = None


@dataclass(frozen=True)
class ShipmentRecord:
    note: str
    line: int
    product: int
    ship_on: date
    quantity: int


def week_start(day: date) -> date:
    """The Monday of `day`'s week (weeks run Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


WEEKS_PER_CHUNK = 26


class WeeklyActivity:
    """What a customer consumed of each product per week (Monday to Sunday) and the stock it
    had at the end of the week: the ERP's product activity (EDI 852 style).

    Kept as weekly arrays, never daily ones: `sold[k]` holds the cartons consumed in week k
    (from `first_week`), `on_hand[k + 1]` the stock at the end of its Sunday and `on_hand[0]`
    the stock the first week started with. Days are recorded in order as they happen; the
    week in progress is kept too, and a week counts once its Sunday is over.
    """

    def __init__(self, first_week: date, start_stock: IntArray, *, weeks: int = 0) -> None:
        if first_week.weekday() != 0:
            raise ValueError(f"weeks start on a Monday, not on {first_week:%A} {first_week}")
        self.first_week = first_week
        n = len(start_stock)
        capacity = max(weeks, 1) + WEEKS_PER_CHUNK
        self.sold = np.zeros((capacity, n), dtype=np.int32)
        self.on_hand = np.zeros((capacity + 1, n), dtype=np.int64)
        self.on_hand[0] = start_stock
        self.weeks = 0
        """Weeks with at least one recorded day (the last may still be in progress)."""
        self.next_day = first_week
        """The next day to record (days before `first_week` only set its start stock)."""

    def copy(self) -> WeeklyActivity:
        twin = WeeklyActivity(self.first_week, self.on_hand[0], weeks=self.weeks)
        twin.sold[: self.weeks] = self.sold[: self.weeks]
        twin.on_hand[: self.weeks + 1] = self.on_hand[: self.weeks + 1]
        twin.weeks, twin.next_day = self.weeks, self.next_day
        return twin

    def _week(self, day: date) -> int:
        if day != self.next_day:
            raise ValueError(f"activity recorded up to {self.next_day}, not {day}")
        self.next_day = day + timedelta(days=1)
        k = (day - self.first_week).days // 7
        if k >= len(self.sold):
            grow = WEEKS_PER_CHUNK + k + 1 - len(self.sold)
            n = self.sold.shape[1]
            self.sold = np.concatenate([self.sold, np.zeros((grow, n), dtype=np.int32)])
            self.on_hand = np.concatenate([self.on_hand, np.zeros((grow, n), dtype=np.int64)])
        if k >= self.weeks:
            self.weeks = k + 1
        return k

    def record(self, day: date, used: IntArray, stock: IntArray) -> None:
        """Day `day` happened: `used` cartons were consumed, `stock` is left at its end.
        Days must come one after the other; days before the first week set its start stock."""
        if day < self.first_week:
            self.on_hand[0] = stock
            return
        k = self._week(day)
        self.sold[k] += used
        self.on_hand[k + 1] = stock

    def complete_weeks(self, today: date) -> int:
        """Weeks whose seven days all lie before `today` (`today` itself has not happened)."""
        done = (min(today, self.next_day) - self.first_week).days // 7
        return max(0, min(done, self.weeks))

    def week_start_of(self, k: int) -> date:
        return self.first_week + timedelta(weeks=k)

    def first_week_from(self, since: date | None) -> int:
        """The index of the first week starting on or after `since`."""
        if since is None:
            return 0
        return max(0, -(-(since - self.first_week).days // 7))

    def active(self, k: int) -> IntArray:
        """Products with anything to report in week k: something consumed or a stock change."""
        moved = (self.sold[k] != 0) | (self.on_hand[k + 1] != self.on_hand[k])
        return np.flatnonzero(moved)


_SHIPMENTS = TypeAdapter(list[Shipment])
_ORDERS = TypeAdapter(list[ErpOrder])
_PRODUCTS = TypeAdapter(list[Product])


def to_erp_order(record: OrderRecord, codes: list[str]) -> dict[str, object]:
    """The domain view of an order record, as a dict ready for validation."""
    return {
        "order_number": record.number,
        "status": record.status,
        "ordered_on": record.ordered_on,
        "eta": None if record.status is OrderStatus.CANCELLED else record.eta,
        "delivered_on": record.deliver_on if record.status is OrderStatus.DELIVERED else None,
        "reference": record.reference,
        "lines": [{"product_code": codes[i], "quantity": q} for i, q in record.lines],
    }


@dataclass
class GeneratedCustomer:
    spec: CustomerSpec
    seed: int
    today: date
    profile: CustomerProfile
    products: list[Product]
    patterns: dict[str, str]
    order_records: list[OrderRecord]
    shipment_records: list[ShipmentRecord]
    process: DemandProcess
    activity: WeeklyActivity
    """Weekly consumption and end-of-week stock of the simulated past (complete weeks
    before `today`, from the first Monday of the history)."""
    prices: list[PriceRow]

    @cached_property
    def shipments(self) -> list[Shipment]:
        codes = [p.code for p in self.products]
        return _SHIPMENTS.validate_python(
            [
                {"product_code": codes[r.product], "ship_date": r.ship_on, "quantity": r.quantity}
                for r in self.shipment_records
            ]
        )

    @cached_property
    def orders(self) -> list[ErpOrder]:
        codes = [p.code for p in self.products]
        return _ORDERS.validate_python([to_erp_order(r, codes) for r in self.order_records])

    def demand(self, start: date, days: int) -> NDArray[np.int32]:
        """True daily consumption in cartons, shape (len(products), days), from `start` on."""
        return self.process(start, days)


def _assign_patterns(rng: np.random.Generator, n: int) -> IntArray:
    base = np.arange(len(PATTERNS)) if n >= len(PATTERNS) else np.zeros(0, dtype=np.int64)
    rest = rng.choice(len(PATTERNS), size=n - len(base), p=PATTERN_WEIGHTS)
    patterns = np.concatenate([base, rest]).astype(np.int64)
    rng.shuffle(patterns)
    return patterns


def _params(spec: CustomerSpec, rng: np.random.Generator, today: int) -> DemandParams:
    n = spec.n_products
    pattern = _assign_patterns(rng, n)
    rate = rng.lognormal(0.0, 1.0, n)
    rate[np.isin(pattern, (INTERMITTENT, LUMPY))] *= 0.35
    rate *= spec.monthly_cartons / DAYS_PER_MONTH / rate.sum()
    growth = rng.uniform(0.15, 0.5, n) * rng.choice([-1.0, 1.0], n, p=[0.35, 0.65])
    amplitude = rng.uniform(0.4, 0.85, n)
    peak_day = rng.choice([15.0, 196.0], n) + rng.uniform(-30, 30, n)
    interval = np.where(pattern == LUMPY, rng.uniform(14, 45, n), rng.uniform(8, 30, n))
    never = np.iinfo(np.int64).max // 4
    launch = np.where(
        pattern == NEW, today - rng.integers(21, 200, n), today - spec.history_days - 400
    )
    end = np.where(pattern == DISCONTINUED, today - rng.integers(30, 330, n), never)
    return DemandParams(
        pattern=pattern,
        rate=rate,
        growth=growth,
        amplitude=amplitude,
        peak_day=peak_day,
        interval=interval,
        launch=launch.astype(np.int64),
        end=end.astype(np.int64),
        today=today,
    )


def _pack_sizes(rng: np.random.Generator, weekly: FloatArray) -> IntArray:
    small = rng.choice([1, 6], weekly.shape)
    medium = rng.choice([6, 12], weekly.shape)
    large = rng.choice([12, 24], weekly.shape)
    huge = rng.choice([24, 50], weekly.shape)
    conditions = [weekly < 3, weekly < 15, weekly < 60, weekly < 250]
    return np.select(conditions, [np.ones_like(small), small, medium, large], huge).astype(np.int64)


def _products(
    spec: CustomerSpec, rng: np.random.Generator, params: DemandParams
) -> tuple[list[str], list[str], IntArray, IntArray, FloatArray, FloatArray]:
    n = spec.n_products
    prefix = int(rng.integers(10, 90))
    serials = rng.choice(900_000, size=n, replace=False) + 100_000
    codes = [f"{prefix}-{s:06d}" for s in np.sort(serials).tolist()]
    names = product_names(rng, n)
    pack = _pack_sizes(rng, params.rate * 7)
    moq = pack * rng.choice([0, 1, 2, 5], n, p=[0.4, 0.3, 0.2, 0.1])
    weight = np.round(np.clip(rng.lognormal(np.log(0.3), 0.4, n), 0.05, 2.5), 3).astype(np.float64)
    volume: FloatArray = np.round(weight / rng.uniform(350, 550, n), 6)
    return codes, names, pack, moq.astype(np.int64), weight, volume


def _contacts(spec: CustomerSpec, rng: np.random.Generator) -> list[Contact]:
    domain = "".join(ch for ch in spec.name.lower() if ch.isalnum())[:16] + ".example"
    contacts = []
    for role in ("buyer", "planner"):
        first, last = person_name(rng)
        email = f"{first}.{last}@{domain}".lower().encode("ascii", "ignore").decode()
        contacts.append(Contact(name=f"{first} {last}", email=email, role=role))
    return contacts


@dataclass
class _History:
    stock: IntArray
    orders: list[OrderRecord]
    shipments: list[ShipmentRecord]
    activity: WeeklyActivity


def order_prefix(code: str) -> str:
    digits = "".join(ch for ch in code if ch.isdigit()) or str(zlib.crc32(code.encode()) % 100_000)
    return digits[-5:].rjust(5, "0")


def status_on(record: OrderRecord, today: date) -> OrderStatus:
    """Where an order stands at the start of `today` (events of `today` not yet happened)."""
    if record.status is OrderStatus.CANCELLED:
        return OrderStatus.CANCELLED
    if record.deliver_on < today:
        return OrderStatus.DELIVERED
    if record.ship_on < today:
        return OrderStatus.IN_TRANSIT
    return OrderStatus.APPROVED


def _simulate_history(
    spec: CustomerSpec,
    rng: np.random.Generator,
    process: DemandProcess,
    today: date,
    pack: IntArray,
    moq: IntArray,
) -> _History:
    params = process.params
    seed, lateness = process.seed, process.lateness
    n, n_days = spec.n_products, spec.history_days
    start = today - timedelta(days=n_days)
    t0 = day_index(start)
    lead = spec.lead_time_weeks * 7
    review, safety, cover = spec.review_days, 14, spec.cover_days
    demand = np.ascontiguousarray(process(start, n_days).T, dtype=np.int64)  # (days, products)
    # Demand up to each day, for the customer's trailing-average reorder rule.
    seen = np.zeros((n_days + 1, n), dtype=np.int64)
    np.cumsum(demand, axis=0, out=seen[1:])
    initial_rate = process.mean(np.array([t0]))[:, 0]
    initial_days = lead + review + safety + rng.uniform(0, cover, n)
    stock = np.rint(initial_rate * initial_days).astype(np.int64)
    on_order = np.zeros(n, dtype=np.int64)
    arrivals: dict[int, list[tuple[IntArray, IntArray]]] = {}
    moq_packs = np.maximum(moq, pack)
    orders: list[OrderRecord] = []
    shipments: list[ShipmentRecord] = []
    prefix = order_prefix(spec.code)
    first_review = int(rng.integers(0, review))
    # Weekly activity from the first Monday on (an earlier partial week is left out).
    first_week = start + timedelta(days=(7 - start.weekday()) % 7)
    activity = WeeklyActivity(first_week, stock, weeks=n_days // 7)
    for d in range(n_days):
        for idx, qty in arrivals.pop(d, ()):
            stock[idx] += qty
            on_order[idx] -= qty
        used = np.minimum(stock, demand[d])
        stock -= used
        activity.record(start + timedelta(days=d), used, stock)
        if d % review != first_review:
            continue
        t = t0 + d
        # What the customer knows: its demand of the last TRAILING_DAYS days (before the
        # history starts, the rate it started with), never the future.
        observed = min(d, TRAILING_DAYS)
        rate = (
            seen[d] - seen[d - observed] + initial_rate * (TRAILING_DAYS - observed)
        ) / TRAILING_DAYS
        stop = params.end - t < 60  # phasing out (announced): no more orders
        position = stock + on_order
        need = (position < rate * (lead + review + safety)) & (rate > 0) & ~stop
        if not need.any():
            continue
        idx = np.flatnonzero(need)
        want = rate[idx] * (lead + review + safety + cover) - position[idx]
        qty = np.maximum(np.ceil(want / pack[idx]) * pack[idx], moq_packs[idx]).astype(np.int64)
        ordered_on = start + timedelta(days=d)
        ship_on = ordered_on + timedelta(days=PREP_DAYS)
        eta = ordered_on + timedelta(days=lead)
        jitter = int(rng.choice([0, 0, 0, 1, 2, 4]))
        slip = lateness.delay_days(seed, spec.code, len(orders) + 1)
        record = OrderRecord(
            number=f"SO{prefix}-{len(orders) + 1:06d}",
            status=OrderStatus.APPROVED,
            ordered_on=ordered_on,
            ship_on=ship_on,
            eta=eta,
            deliver_on=eta + timedelta(days=jitter + slip),
            lines=list(zip(idx.tolist(), qty.tolist(), strict=True)),
        )
        if rng.random() < 0.03 and ship_on < today:
            record.status = OrderStatus.CANCELLED
        record.status = status_on(record, today)
        orders.append(record)
        if record.status is OrderStatus.CANCELLED:
            continue
        on_order[idx] += qty
        arrivals.setdefault((record.deliver_on - start).days, []).append((idx, qty))
        if ship_on < today:
            note = f"DN{prefix}-{len(orders):06d}"
            shipments.extend(
                ShipmentRecord(note, line_no, i, ship_on, q)
                for line_no, (i, q) in enumerate(record.lines, start=1)
            )
    return _History(stock, orders, shipments, activity)


def generate_customer(spec: CustomerSpec, *, seed: int, today: date) -> GeneratedCustomer:
    """Build one customer; the same (spec, seed, today) always gives the same data."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(spec.code.encode())]))
    params = _params(spec, rng, day_index(today))
    process = DemandProcess(params, seed=seed, code=spec.code, lateness=spec.lateness)
    codes, names, pack, moq, weight, volume = _products(spec, rng, params)
    history = _simulate_history(spec, rng, process, today, pack, moq)
    statuses = np.where(params.pattern == DISCONTINUED, "discontinued", "active")
    products = _PRODUCTS.validate_python(
        [
            {
                "code": code,
                "name": name,
                "pack_size": p,
                "moq": m,
                "status": s,
                "carton_weight_kg": w,
                "carton_volume_m3": v,
                "stock_on_hand": soh,
            }
            for code, name, p, m, s, w, v, soh in zip(
                codes,
                names,
                pack.tolist(),
                moq.tolist(),
                statuses.tolist(),
                weight.tolist(),
                volume.tolist(),
                history.stock.tolist(),
                strict=True,
            )
        ]
    )
    profile = CustomerProfile(
        code=spec.code,
        name=spec.name,
        contacts=_contacts(spec, rng),
        credit_status=spec.credit_status,
        lead_time_weeks=spec.lead_time_weeks,
        container_capacity_cartons=spec.container_capacity_cartons,
        timezone=spec.timezone,
        currency=spec.currency,
        credit_limit=spec.credit_limit,
        open_balance=spec.open_balance,
        payment_terms=spec.payment_terms,
    )
    patterns = {code: PATTERNS[k] for code, k in zip(codes, params.pattern.tolist(), strict=True)}
    return GeneratedCustomer(
        spec=spec,
        seed=seed,
        today=today,
        profile=profile,
        products=products,
        patterns=patterns,
        order_records=history.orders,
        shipment_records=history.shipments,
        process=process,
        activity=history.activity,
        prices=price_list(spec.code, seed, products, today, spec.currency),
    )
