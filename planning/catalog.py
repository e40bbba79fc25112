"""The catalogue as arrays, in input order: what every stage reads about the products."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from planning.history import BoolArray, IntArray
from planning.models import Product, ProductStatus
from planning.packing import Limits, PackItem, PackLines, effective_moq, per_container_room


@dataclass(frozen=True)
class Catalog:
    """Product attributes as arrays, in input order."""

    codes: list[str]
    names: list[str]
    pack: IntArray
    moq: IntArray
    active: BoolArray
    weight: list[float | None]
    volume: list[float | None]
    reported_stock: list[int | None]
    snoozed_until: list[date | None] = field(default_factory=list)
    """The day the buyer's snooze of each product ends (None: not snoozed); empty: none."""

    @property
    def snoozed(self) -> BoolArray:
        if not self.snoozed_until:
            return np.zeros(len(self.codes), dtype=bool)
        return np.array([d is not None for d in self.snoozed_until], dtype=bool)

    @classmethod
    def of(cls, products: Sequence[Product], snoozed: Mapping[str, date] | None = None) -> Catalog:
        return cls(
            codes=[p.code for p in products],
            names=[p.name for p in products],
            pack=np.array([p.pack_size for p in products], dtype=np.int64),
            moq=np.array([p.moq for p in products], dtype=np.int64),
            active=np.array([p.status is ProductStatus.ACTIVE for p in products], dtype=bool),
            weight=[p.carton_weight_kg for p in products],
            volume=[p.carton_volume_m3 for p in products],
            reported_stock=[p.stock_on_hand for p in products],
            snoozed_until=[snoozed.get(p.code) for p in products] if snoozed else [],
        )

    def __len__(self) -> int:
        return len(self.codes)

    def pack_item(self, row: int, quantity: int, urgent: bool = False) -> PackItem:
        return PackItem(
            product_code=self.codes[row],
            quantity=quantity,
            urgent=urgent,
            carton_weight_kg=self.weight[row],
            carton_volume_m3=self.volume[row],
            pack_size=int(self.pack[row]),
            min_quantity=effective_moq(int(self.pack[row]), int(self.moq[row])),
        )

    def pack_lines(self, rows: IntArray, quantity: IntArray, urgent: BoolArray) -> PackLines:
        """`pack_item` for each of `rows` (in that order), as `PackLines` built in bulk."""
        row_list = rows.tolist()
        pack = self.pack[rows].tolist()
        moq = self.moq[rows].tolist()
        minimum = {pm: effective_moq(*pm) for pm in set(zip(pack, moq, strict=True))}
        return PackLines(
            product_code=[self.codes[r] for r in row_list],
            quantity=quantity[rows].tolist(),
            urgent=urgent[rows].tolist(),
            carton_weight_kg=[self.weight[r] for r in row_list],
            carton_volume_m3=[self.volume[r] for r in row_list],
            pack_size=pack,
            min_quantity=[minimum[pm] for pm in zip(pack, moq, strict=True)],
        )

    def per_container(self, limits: Limits) -> IntArray:
        """Most cartons of each product one empty container takes, in whole packs."""
        return per_container_room(self.pack, self.weight, self.volume, limits)

    def minimum(self) -> IntArray:
        """Each product's smallest orderable quantity (MOQ rounded up to the pack)."""
        return np.asarray(np.maximum(-(-self.moq // self.pack), 1) * self.pack, dtype=np.int64)
