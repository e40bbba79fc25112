"""An exact packer for small orders: the fewest containers, when the greedy packer misses.

The greedy packer (`packing.pack_lines`) fills every container but the last in its binding
limit, so it reaches the lower bound (total / capacity, rounded up, in the tightest limit)
whenever the packs let containers be filled exactly. When they do not (packs of 7, 11, 13
and nothing smaller), whether the bound is reachable is a partition problem; for a handful
of lines this module settles it by a bounded depth-first search: each line's packs are
dealt over the containers, largest packs first, every share 0 or at least the line's
minimum, within every limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_LINES = 12
MAX_CONTAINERS = 6
NODE_BUDGET = 50_000


@dataclass(frozen=True)
class Line:
    packs: int  # the order, in packs
    pack_size: int  # cartons per pack
    min_packs: int  # every non-zero share is at least this many packs (>= 1)
    pack_weight: float = 0.0  # kg per pack
    pack_volume: float = 0.0  # m3 per pack


@dataclass(frozen=True)
class Limits:
    cartons: int
    weight: float = math.inf
    volume: float = math.inf


class _Budget(Exception):
    pass


def solve(lines: Sequence[Line], limits: Limits, containers: int) -> list[list[int]] | None:
    """Packs of each line in each of `containers` containers, or None when there is no
    such split (or the search ran out of budget)."""
    if not lines or containers < 1:
        return None
    order = sorted(range(len(lines)), key=lambda i: (-lines[i].pack_size, -lines[i].packs))
    room = [float(limits.cartons)] * containers
    weight = [limits.weight] * containers
    volume = [limits.volume] * containers
    shares = [[0] * containers for _ in lines]
    nodes = [0]
    eps = 1e-9

    def fits(line: Line, box: int) -> int:
        most = room[box] // line.pack_size
        if line.pack_weight > 0 and math.isfinite(weight[box]):
            most = min(most, math.floor(weight[box] / line.pack_weight + eps))
        if line.pack_volume > 0 and math.isfinite(volume[box]):
            most = min(most, math.floor(volume[box] / line.pack_volume + eps))
        return int(max(most, 0))

    def deal(pos: int) -> bool:
        if pos == len(order):
            return True
        i = order[pos]
        return spread(pos, i, lines[i], 0, lines[i].packs)

    def spread(pos: int, i: int, line: Line, box: int, packs: int) -> bool:
        nodes[0] += 1
        if nodes[0] > NODE_BUDGET:
            raise _Budget
        if packs == 0:
            return deal(pos + 1)
        if box == containers:
            return False
        if packs * line.pack_size > sum(room[box:]):
            return False
        for take in range(min(fits(line, box), packs), -1, -1):
            if 0 < take < line.min_packs:
                continue
            rest = packs - take
            if rest * line.pack_size > sum(room[box + 1 :]):
                break  # taking less only leaves more for the containers after
            room[box] -= take * line.pack_size
            weight[box] -= take * line.pack_weight
            volume[box] -= take * line.pack_volume
            shares[i][box] = take
            ok = spread(pos, i, line, box + 1, rest)
            room[box] += take * line.pack_size
            weight[box] += take * line.pack_weight
            volume[box] += take * line.pack_volume
            if ok:
                return True
            shares[i][box] = 0
        return False

    try:
        found = deal(0)
    except _Budget:
        return None
    return shares if found else None
