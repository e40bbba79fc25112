"""Group order lines into containers; usable on its own when a buyer edits quantities.

Packing rules, in order:
1. Urgent lines go first; containers holding any urgent line are listed first.
2. A product of at least one container's worth fills whole single-product containers.
3. Lines are placed whole when they fit; when the next line does not fit, the largest
   waiting line (of the same urgency) that fits whole goes in instead; only when no line
   fits whole is one split, and then exactly to fill the container.

So every container but the one left open at the end is full in its binding limit, and for
cartons alone the count is the lower bound ceil(total / capacity). Lines split at carton
granularity: the *order* quantity per product is a pack multiple, the share of it in one
container need not be.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from planning import exact, shares
from planning.errors import InvalidQuantity, UnpackableProduct
from planning.history import IntArray
from planning.schemas import Container, ContainerLine, Line, construct
from planning.settings import PlanSettings

_EPS = 1e-9


@dataclass(frozen=True)
class Limits:
    cartons: int
    weight_kg: float | None = None
    volume_m3: float | None = None

    @classmethod
    def from_settings(cls, settings: PlanSettings) -> Limits:
        return cls(
            cartons=settings.container_capacity_cartons,
            weight_kg=settings.container_max_weight_kg,
            volume_m3=settings.container_max_volume_m3,
        )


@dataclass(frozen=True)
class PackItem:
    """One product's cartons to pack. Weight/volume per carton; None counts as 0.

    Each container becomes its own ERP order, so a product split across containers is split
    at pack boundaries and every share is at least `min_quantity` (the MOQ as a pack
    multiple): the ERP rejects a line that is not a pack multiple or is below the MOQ.
    """

    product_code: str
    quantity: int
    urgent: bool = False
    carton_weight_kg: float | None = None
    carton_volume_m3: float | None = None
    pack_size: int = 1
    min_quantity: int = 0

    def share(self, room: int, remaining: int) -> int:
        """How much of `remaining` to put where `room` fits, leaving an orderable rest."""
        share = min(room, remaining)
        left = remaining - share
        if 0 < left < self.min_quantity:
            share = remaining - self.min_quantity
        return share if share >= max(self.min_quantity, 1) else 0


@dataclass
class Box:
    """A container being filled."""

    limits: Limits
    lines: dict[str, int] = field(default_factory=dict)
    urgent_codes: set[str] = field(default_factory=set)
    cartons: int = 0
    weight_kg: float = 0.0
    volume_m3: float = 0.0

    @property
    def urgent(self) -> bool:
        return bool(self.urgent_codes)

    def room_for(self, item: PackItem) -> int:
        """How many cartons of `item` still fit, in every limit."""
        room = self.limits.cartons - self.cartons
        w = item.carton_weight_kg or 0.0
        if self.limits.weight_kg is not None and w > 0:
            room = min(room, math.floor((self.limits.weight_kg - self.weight_kg) / w + _EPS))
        v = item.carton_volume_m3 or 0.0
        if self.limits.volume_m3 is not None and v > 0:
            room = min(room, math.floor((self.limits.volume_m3 - self.volume_m3) / v + _EPS))
        return max(room // item.pack_size * item.pack_size, 0)

    def add(self, item: PackItem, quantity: int) -> None:
        self.lines[item.product_code] = self.lines.get(item.product_code, 0) + quantity
        if item.urgent:
            self.urgent_codes.add(item.product_code)
        self.cartons += quantity
        self.weight_kg += quantity * (item.carton_weight_kg or 0.0)
        self.volume_m3 += quantity * (item.carton_volume_m3 or 0.0)

    def fill_fraction(self) -> float:
        """Fill of the binding limit, 0..1."""
        fills = [self.cartons / self.limits.cartons]
        if self.limits.weight_kg is not None:
            fills.append(self.weight_kg / self.limits.weight_kg)
        if self.limits.volume_m3 is not None:
            fills.append(self.volume_m3 / self.limits.volume_m3)
        return max(fills)

    @property
    def full(self) -> bool:
        return self.fill_fraction() >= 1.0 - _EPS


def per_container(item: PackItem, limits: Limits) -> int:
    """Most cartons of the item one empty container takes; raises if not even one."""
    room = Box(limits).room_for(item)
    if room < 1:
        raise _unpackable(item.product_code, item.pack_size)
    return room


def per_container_room(
    pack: IntArray,
    weight: Sequence[float | None],
    volume: Sequence[float | None],
    limits: Limits,
) -> IntArray:
    """`per_container` for many products at once, without raising: 0 where not one pack
    fits."""
    room = np.full(len(pack), limits.cartons, dtype=np.float64)
    if limits.weight_kg is not None:
        w = np.array([x or 0.0 for x in weight], dtype=np.float64)
        with np.errstate(divide="ignore"):
            room = np.where(w > 0, np.minimum(room, np.floor(limits.weight_kg / w + _EPS)), room)
    if limits.volume_m3 is not None:
        v = np.array([x or 0.0 for x in volume], dtype=np.float64)
        with np.errstate(divide="ignore"):
            room = np.where(v > 0, np.minimum(room, np.floor(limits.volume_m3 / v + _EPS)), room)
    whole = room.astype(np.int64) // pack * pack
    return np.asarray(np.maximum(whole, 0), dtype=np.int64)


def _unpackable(code: str, pack_size: int) -> UnpackableProduct:
    return UnpackableProduct(
        code,
        "one pack exceeds the container's capacity, weight or volume limit"
        if pack_size > 1
        else "one carton exceeds the container's weight or volume limit",
    )


@dataclass(frozen=True)
class PackLines:
    """Items to pack as parallel lists (what `PackItem`s hold, one list per field), so the
    engine can pack thousands of lines without building an object per line."""

    product_code: Sequence[str]
    quantity: Sequence[int]
    urgent: Sequence[bool]
    carton_weight_kg: Sequence[float | None]
    carton_volume_m3: Sequence[float | None]
    pack_size: Sequence[int]
    min_quantity: Sequence[int]

    @classmethod
    def of(cls, items: Sequence[PackItem]) -> PackLines:
        return cls(
            product_code=[i.product_code for i in items],
            quantity=[i.quantity for i in items],
            urgent=[i.urgent for i in items],
            carton_weight_kg=[i.carton_weight_kg for i in items],
            carton_volume_m3=[i.carton_volume_m3 for i in items],
            pack_size=[i.pack_size for i in items],
            min_quantity=[i.min_quantity for i in items],
        )


def pack(items: Sequence[PackItem], limits: Limits) -> tuple[list[Box], Box | None]:
    """Pack items (in priority order) and return (boxes in order, the box left open).

    The open box is the one the last-container policy may top up or drop; it is None when
    the packing ended on a full container.
    """
    return pack_lines(PackLines.of(items), limits)


def pack_lines(lines: PackLines, limits: Limits) -> tuple[list[Box], Box | None]:
    """`pack` for items given as parallel lists (line n is item n, in priority order)."""
    codes = lines.product_code
    urgent = lines.urgent
    packs = lines.pack_size
    # Per line, as `Box.room_for` and `Box.add` read a PackItem: None weighs nothing.
    weight = [w or 0.0 for w in lines.carton_weight_kg]
    volume = [v or 0.0 for v in lines.carton_volume_m3]
    # Shares are pack multiples, so a minimum is one too (the MOQ rounded up to packs).
    min_qty = [-(-m // p) * p for m, p in zip(lines.min_quantity, packs, strict=True)]
    cap, max_weight, max_volume = limits.cartons, limits.weight_kg, limits.volume_m3
    cartons_only = max_weight is None and max_volume is None  # room = cartons left, in packs

    def room_for(box: Box, n: int) -> int:
        """`box.room_for(item n)`."""
        room = cap - box.cartons
        if max_weight is not None and weight[n] > 0:
            room = min(room, math.floor((max_weight - box.weight_kg) / weight[n] + _EPS))
        if max_volume is not None and volume[n] > 0:
            room = min(room, math.floor((max_volume - box.volume_m3) / volume[n] + _EPS))
        p = packs[n]
        return max(room // p * p, 0)

    def add(box: Box, n: int, quantity: int) -> None:
        """`box.add(item n, quantity)`."""
        code = codes[n]
        box.lines[code] = box.lines.get(code, 0) + quantity
        if urgent[n]:
            box.urgent_codes.add(code)
        box.cartons += quantity
        # Adding quantity * 0.0 would leave the totals as they are: skipped.
        if weight[n]:
            box.weight_kg += quantity * weight[n]
        if volume[n]:
            box.volume_m3 += quantity * volume[n]

    whole_of: dict[int, int] = {}  # most cartons of item n one empty container takes

    def share(n: int, room: int, remaining: int) -> int:
        """`shares.share` for item n: the rest must still split into orderable shares."""
        return shares.share(room, remaining, min_qty[n], whole_of[n])

    gapped: list[Box] = []  # single-product containers a pack short of full, to fill first
    listed: set[int] = set()  # ids of the boxes already in `boxes`

    def next_box() -> Box:
        return gapped.pop(0) if gapped else Box(limits)

    def close(box: Box) -> None:
        if id(box) not in listed:
            boxes.append(box)
            listed.add(id(box))

    def fill(group: list[int], remaining: dict[int, int], current: Box) -> Box:
        """Place the remainders of one urgency group, closing boxes as they fill."""
        order = [n for n in group if n in remaining]
        rem = [remaining[n] for n in order]  # what is left of each, by position; 0 = placed
        waiting = len(order)
        # (remaining, position) sorted, for "largest that fits whole"; positions follow the
        # items' order. An entry is current while rem[position] equals its remaining; older
        # entries are skipped and swept out now and then rather than deleted one by one.
        by_size = [(rem[i], i) for i in sorted(range(len(rem)), key=rem.__getitem__)]
        stale = 0

        def take(i: int, qty: int) -> None:
            nonlocal waiting, stale
            add(current, order[i], qty)
            left = rem[i] - qty
            rem[i] = left
            stale += 1
            if left:
                bisect.insort(by_size, (left, i))
            else:
                waiting -= 1

        def largest_whole_fit() -> int | None:
            """The largest waiting item that fits whole (checks 32 below the carton cut)."""
            nonlocal by_size, stale
            if stale > 2 * waiting:
                by_size = [(q, i) for q, i in by_size if rem[i] == q]
                stale = 0
            k = bisect.bisect_right(by_size, (cap - current.cartons, math.inf))
            checked = 0
            while k > 0 and checked < 32:
                k -= 1
                q, i = by_size[k]
                if rem[i] == q:
                    checked += 1
                    if room_for(current, order[i]) >= q:
                        return i
            return None

        head = 0
        while waiting:
            while not rem[head]:
                head += 1
            n = order[head]
            if cartons_only:
                room = max((cap - current.cartons) // packs[n] * packs[n], 0)
            else:
                room = room_for(current, n)
            if room >= rem[head]:
                take(head, rem[head])
                continue
            best = largest_whole_fit()
            if best is not None:
                take(best, rem[best])
                continue
            part = share(n, room, rem[head])
            if not part and current.cartons == 0:  # the up-front check makes this unreachable
                raise unsplittable(codes[n], rem[head], whole_of[n], min_qty[n])
            if part:
                take(head, part)
                continue
            # The head does not fit at all. With cartons left (weight or volume is what ran
            # out) a lighter or smaller item may still fit; a carton-full box just closes.
            other = None
            if current.cartons < cap:
                other = next(
                    (
                        i
                        for i in range(head, len(order))
                        if rem[i] and share(order[i], room_for(current, order[i]), rem[i])
                    ),
                    None,
                )
            if other is not None:
                m = order[other]
                take(other, share(m, room_for(current, m), rem[other]))
                continue
            close(current)
            current = next_box()
        return current

    boxes: list[Box] = []
    rows = [n for n, q in enumerate(lines.quantity) if q > 0]
    empty = Box(limits)
    current = Box(limits)
    for group in ([n for n in rows if urgent[n]], [n for n in rows if not urgent[n]]):
        remaining: dict[int, int] = {}
        for n in group:
            whole = max(cap // packs[n] * packs[n], 0) if cartons_only else room_for(empty, n)
            if whole < 1:
                raise _unpackable(codes[n], packs[n])
            whole_of[n] = whole
            qty = lines.quantity[n]
            if not shares.splits(qty, whole, min_qty[n]):
                raise unsplittable(codes[n], qty, whole, min_qty[n])
            # Whole single-product containers first, so big products are split least; one
            # a pack short of full (packs of 7, 11...) takes other products' packs first.
            while qty >= whole and shares.splits(qty - whole, whole, min_qty[n]):
                box = Box(limits)
                add(box, n, whole)
                close(box)
                if not box.full:
                    gapped.append(box)
                qty -= whole
            if qty:
                remaining[n] = qty
        current = fill(group, remaining, current)
    if current.cartons:
        close(current)
    open_box = current if current.cartons and not current.full else None
    needs = _needs(boxes, limits)
    # Where weight or volume binds, the bound is seldom reachable and not worth a search.
    if len(boxes) > math.ceil(needs[0] - 1e-9) and needs[0] >= max(needs):
        fewer = _exact(lines, rows, min_qty, limits)
        if fewer is not None:
            boxes = fewer
            last = min(boxes, key=lambda b: b.cartons)
            open_box = last if not last.full else None
    return _ordered(boxes, open_box), open_box


def _lower_bound(boxes: Sequence[Box], limits: Limits) -> int:
    """Containers the packed lines need at least, in their tightest limit."""
    return math.ceil(max(_needs(boxes, limits)) - 1e-9)


def _needs(boxes: Sequence[Box], limits: Limits) -> list[float]:
    """Containers' worth of the lines' cartons, weight and volume (each limit set)."""
    needs = [sum(b.cartons for b in boxes) / limits.cartons]
    if limits.weight_kg is not None:
        needs.append(sum(b.weight_kg for b in boxes) / limits.weight_kg)
    if limits.volume_m3 is not None:
        needs.append(sum(b.volume_m3 for b in boxes) / limits.volume_m3)
    return needs


def _exact(
    lines: PackLines, rows: list[int], min_qty: list[int], limits: Limits
) -> list[Box] | None:
    """The same lines in as few containers as the lower bound, by `exact.solve`, when the
    order is small enough to search; None otherwise or when there is no such split."""
    if len(rows) > exact.MAX_LINES:
        return None
    probe = Box(limits)
    for n in rows:
        probe.cartons += lines.quantity[n]
        probe.weight_kg += lines.quantity[n] * (lines.carton_weight_kg[n] or 0.0)
        probe.volume_m3 += lines.quantity[n] * (lines.carton_volume_m3[n] or 0.0)
    target = _lower_bound([probe], limits)
    if target > exact.MAX_CONTAINERS:
        return None
    # Urgent lines first, so the first containers hold them.
    rows = sorted(rows, key=lambda n: not lines.urgent[n])
    solved = exact.solve(
        [
            exact.Line(
                packs=lines.quantity[n] // lines.pack_size[n],
                pack_size=lines.pack_size[n],
                min_packs=max(-(-min_qty[n] // lines.pack_size[n]), 1),
                pack_weight=lines.pack_size[n] * (lines.carton_weight_kg[n] or 0.0),
                pack_volume=lines.pack_size[n] * (lines.carton_volume_m3[n] or 0.0),
            )
            for n in rows
        ],
        exact.Limits(
            cartons=limits.cartons,
            weight=math.inf if limits.weight_kg is None else limits.weight_kg,
            volume=math.inf if limits.volume_m3 is None else limits.volume_m3,
        ),
        target,
    )
    if solved is None:
        return None
    boxes = [Box(limits) for _ in range(target)]
    for n, counts in zip(rows, solved, strict=True):
        item = PackItem(
            product_code=lines.product_code[n],
            quantity=lines.quantity[n],
            urgent=lines.urgent[n],
            carton_weight_kg=lines.carton_weight_kg[n],
            carton_volume_m3=lines.carton_volume_m3[n],
            pack_size=lines.pack_size[n],
            min_quantity=min_qty[n],
        )
        for box, count in zip(boxes, counts, strict=True):
            if count:
                box.add(item, count * item.pack_size)
    return [b for b in boxes if b.cartons]


def unsplittable(code: str, quantity: int, per_container: int, minimum: int) -> InvalidQuantity:
    below, above = shares.nearest(quantity, per_container, minimum)
    if below is None and above is None:
        return InvalidQuantity(
            code,
            f"its minimum order {minimum:,} is more than one container takes "
            f"({per_container:,}), and each container is its own order",
        )
    options = " or ".join(f"{q:,}" for q in (below, above) if q is not None)
    return InvalidQuantity(
        code,
        f"quantity {quantity:,} cannot be split into containers of at most {per_container:,} "
        f"with every share at least the minimum order {minimum:,} (orderable: {options})",
    )


def _ordered(boxes: list[Box], open_box: Box | None) -> list[Box]:
    """Urgent containers first; within each class the open (partial) box last."""
    return sorted(boxes, key=lambda b: (not b.urgent, b is open_box))


def top_up(
    box: Box, candidates: Iterable[tuple[PackItem, int, int]], budget: int | None = None
) -> dict[str, int]:
    """Pull products forward into `box`, in the order given.

    Each candidate is (item, pack_size, minimum): item.quantity is the most that may be
    added (already a pack multiple); minimum is the MOQ for a product not yet ordered, else
    0. Adds only pack multiples, and at most `budget` cartons in all (None: no limit).
    Returns cartons added per product.
    """
    added: dict[str, int] = {}
    left = budget
    for item, pack_size, minimum in candidates:
        if box.full or (left is not None and left <= 0):
            break
        room = min(box.room_for(item), item.quantity)
        if left is not None:
            room = min(room, left)
        qty = room // pack_size * pack_size
        if item.product_code not in box.lines:
            # A share in this container is its own ERP order line: it needs the MOQ even
            # when the product is ordered in another container already.
            minimum = max(minimum, item.min_quantity)
        if qty <= 0 or qty < minimum:
            continue
        box.add(item, qty)
        added[item.product_code] = qty
        if left is not None:
            left -= qty
    return added


def to_containers(boxes: Sequence[Box], *, validate: bool = True) -> list[Container]:
    """The boxes as `Container`s, numbered from 1 in order.

    `validate=False` skips pydantic validation (`schemas.construct`), for boxes the engine
    packed itself: every value is then already of its field's type.
    """
    out: list[Container] = []
    for index, box in enumerate(boxes, start=1):
        limits = box.limits
        urgent = box.urgent_codes
        lines = [
            {
                "product_code": c,
                "quantity": q,
                "urgent": c in urgent,
                "unit_price": None,
                "value": None,
            }
            for c, q in box.lines.items()
        ]
        values = {
            "index": index,
            "lines": [
                ContainerLine(**line) if validate else construct(ContainerLine, line, _LINE_FIELDS)
                for line in lines
            ],
            "cartons": box.cartons,
            "fill_pct": round(100 * box.fill_fraction(), 2),
            "cartons_fill_pct": round(100 * box.cartons / limits.cartons, 2),
            "weight_kg": round(box.weight_kg, 3) if limits.weight_kg is not None else None,
            "weight_fill_pct": round(100 * box.weight_kg / limits.weight_kg, 2)
            if limits.weight_kg is not None
            else None,
            "volume_m3": round(box.volume_m3, 4) if limits.volume_m3 is not None else None,
            "volume_fill_pct": round(100 * box.volume_m3 / limits.volume_m3, 2)
            if limits.volume_m3 is not None
            else None,
            "urgent": box.urgent,
            "value": None,
            "unpriced_lines": 0,
        }
        out.append(
            Container(**values) if validate else construct(Container, values, _CONTAINER_FIELDS)
        )
    return out


_LINE_FIELDS = frozenset(ContainerLine.model_fields)
_CONTAINER_FIELDS = frozenset(Container.model_fields)


def repack(lines: Sequence[Line | PackItem], settings: PlanSettings) -> list[Container]:
    """Pack lines into containers under the settings' limits (no top-up, no drop).

    This is what the workflow calls after a buyer edits quantities; lines keep their order
    as priority, urgent ones first.
    """
    items = [
        line
        if isinstance(line, PackItem)
        else PackItem(
            product_code=line.product_code,
            quantity=line.quantity,
            urgent=line.urgent,
            carton_weight_kg=line.carton_weight_kg,
            carton_volume_m3=line.carton_volume_m3,
            pack_size=line.pack_size,
            min_quantity=effective_moq(line.pack_size, line.moq),
        )
        for line in lines
    ]
    boxes, _ = pack(items, Limits.from_settings(settings))
    return to_containers(boxes)


def effective_moq(pack_size: int, moq: int) -> int:
    """The smallest orderable quantity: the MOQ rounded up to a pack multiple."""
    return max(math.ceil(moq / pack_size), 1) * pack_size
