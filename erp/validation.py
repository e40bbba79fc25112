"""Row-level validation of ERP data: bad rows are left out (or corrected) with a reason, never
failing the sync, and every decision is counted in a `DataQualityReport`."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from itertools import pairwise
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from core.money import is_currency
from erp.mapping import EntityMap, ErpMapping, FieldError
from erp.models import (
    DataIssue,
    DataQualityReport,
    HistoryGap,
    IssueAction,
    IssueReason,
)
from planning.models import ConsumptionReport, ErpOrder, PriceRow, Product, Shipment

EXAMPLES_PER_REASON = 5
MIN_GAP_DAYS = 60
GAP_FACTOR = 4

M = TypeVar("M", bound=BaseModel)


class ReportBuilder:
    def __init__(self) -> None:
        self.counts: Counter[IssueReason] = Counter()
        self.examples: list[DataIssue] = []
        self.received: dict[str, int] = {}
        self.kept: dict[str, int] = {}
        self.gaps: list[HistoryGap] = []

    def issue(
        self,
        reason: IssueReason,
        entity: str,
        key: str,
        detail: str,
        action: IssueAction = IssueAction.DROPPED,
        field: str | None = None,
    ) -> None:
        self.counts[reason] += 1
        if self.counts[reason] <= EXAMPLES_PER_REASON:
            self.examples.append(
                DataIssue(
                    reason=reason, entity=entity, key=key, field=field, detail=detail, action=action
                )
            )

    def field_error(self, entity: str, key: str, error: FieldError) -> None:
        reason = IssueReason.MISSING_FIELD if error.missing else IssueReason.BAD_VALUE
        self.issue(reason, entity, key, str(error), field=error.field)

    def build(self) -> DataQualityReport:
        return DataQualityReport(
            counts=dict(self.counts),
            rows_received=dict(self.received),
            rows_kept=dict(self.kept),
            examples=self.examples,
            gaps=self.gaps,
        )


def _row_key(entity: EntityMap, row: Any, fallback: str) -> str:
    if isinstance(row, Mapping):
        key = entity.key(row)
        if key is not None:
            return key
    return fallback


def _build(
    adapter: TypeAdapter[list[M]],
    single: type[M],
    rows: list[dict[str, Any]],
    label: Callable[[int], str],
    entity: str,
    report: ReportBuilder,
) -> list[M]:
    """Validate in bulk (fast); when something slips through, fall back row by row."""
    try:
        return adapter.validate_python(rows)
    except ValidationError:
        pass
    good: list[M] = []
    for n, row in enumerate(rows):
        try:
            good.append(single.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            detail = f"{field}: {first['msg']}"
            report.issue(IssueReason.BAD_VALUE, entity, label(n), detail, field=field)
    return good


_PRODUCTS = TypeAdapter(list[Product])
_SHIPMENTS = TypeAdapter(list[Shipment])
_ORDERS = TypeAdapter(list[ErpOrder])
_ACTIVITY = TypeAdapter(list[ConsumptionReport])
_PRICES = TypeAdapter(list[PriceRow])
WEEK = timedelta(days=7)


def nearest_monday(day: date) -> date:
    """The Monday of the Monday-to-Sunday week that shares most days with the 7 days from
    `day` (Tuesday to Thursday: the Monday before; Friday to Sunday: the one after)."""
    shift = day.weekday()
    return day - timedelta(days=shift) if shift <= 3 else day + timedelta(days=7 - shift)


def _price_problem(
    values: Mapping[str, Any], products: Mapping[str, Product] | None, currency: str | None
) -> tuple[IssueReason, str, str] | None:
    """What is wrong with one mapped price row, if anything: (reason, detail, field)."""
    money, start, end = values["currency"], values["valid_from"], values.get("valid_to")
    if not is_currency(money):
        return IssueReason.BAD_VALUE, f"{money!r} is not an ISO 4217 currency", "currency"
    if currency is not None and money != currency:
        return IssueReason.BAD_VALUE, f"priced in {money}, the account in {currency}", "currency"
    if end is not None and end < start:
        return IssueReason.BAD_VALUE, f"valid to {end}, before it starts ({start})", "valid_to"
    code = values["product_code"]
    if products is not None and code not in products:
        detail = f"item {code} is not in the customer's item list"
        return IssueReason.UNKNOWN_ITEM, detail, "product_code"
    return None


class SnapshotValidator:
    """Checks one customer's ERP rows against each other and against the business date."""

    def __init__(self, mapping: ErpMapping, *, as_of: date, report: ReportBuilder) -> None:
        self.mapping = mapping
        self.as_of = as_of
        self.report = report

    def products(self, rows: list[Any]) -> list[Product]:
        entity, report = self.mapping.entity("product"), self.report
        report.received["product"] = len(rows)
        kept: dict[str, dict[str, Any]] = {}
        for n, row in enumerate(rows):
            key = _row_key(entity, row, f"row {n}")
            try:
                values = entity.convert(row)
            except FieldError as exc:
                report.field_error("product", key, exc)
                continue
            code = values["code"]
            pack = values["pack_size"]
            if pack < 1:
                report.issue(
                    IssueReason.INCONSISTENT_PACK_SIZE,
                    "product",
                    code,
                    f"pack size {pack} is not a positive number of cartons",
                    field="pack_size",
                )
                continue
            first = kept.get(code)
            if first is not None:
                if first["pack_size"] != pack:
                    report.issue(
                        IssueReason.INCONSISTENT_PACK_SIZE,
                        "product",
                        code,
                        f"listed twice with pack sizes {first['pack_size']} and {pack}; "
                        "kept the first",
                        field="pack_size",
                    )
                else:
                    report.issue(IssueReason.DUPLICATE_ROW, "product", code, "listed twice")
                continue
            self._correct_product(values, code)
            kept[code] = values
        codes = list(kept)
        products = _build(
            _PRODUCTS, Product, list(kept.values()), codes.__getitem__, "product", report
        )
        report.kept["product"] = len(products)
        return products

    def _correct_product(self, values: dict[str, Any], code: str) -> None:
        report, pack = self.report, values["pack_size"]
        moq = values.get("moq", 0)
        if moq < 0:
            report.issue(
                IssueReason.BAD_VALUE,
                "product",
                code,
                f"MOQ {moq} is negative; set to 0",
                IssueAction.CORRECTED,
                "moq",
            )
            values["moq"] = moq = 0
        if moq % pack:
            fixed = -(-moq // pack) * pack
            report.issue(
                IssueReason.INCONSISTENT_PACK_SIZE,
                "product",
                code,
                f"MOQ {moq} is not a multiple of pack size {pack}; rounded up to {fixed}",
                IssueAction.CORRECTED,
                "moq",
            )
            values["moq"] = fixed
        stock = values.get("stock_on_hand")
        if stock is not None and stock < 0:
            report.issue(
                IssueReason.NEGATIVE_STOCK,
                "product",
                code,
                f"stock on hand {stock} is negative; treated as unknown",
                IssueAction.CORRECTED,
                "stock_on_hand",
            )
            values["stock_on_hand"] = None
        for name in ("carton_weight_kg", "carton_volume_m3"):
            value = values.get(name)
            if value is not None and value < 0:
                report.issue(
                    IssueReason.BAD_VALUE,
                    "product",
                    code,
                    f"{name} {value} is negative; treated as unknown",
                    IssueAction.CORRECTED,
                    name,
                )
                values[name] = None

    def shipments(self, rows: list[Any], products: Mapping[str, Product] | None) -> list[Shipment]:
        entity, report, as_of = self.mapping.entity("shipment"), self.report, self.as_of
        report.received["shipment"] = len(rows)
        convert, keyed = entity.converter(), bool(entity.key_fields)
        seen: set[Any] = set()
        good: list[dict[str, Any]] = []
        identities: list[Any] = []

        def label(identity: Any) -> str:
            return "/".join(str(v) for v in identity)

        for n, row in enumerate(rows):
            try:
                values = convert(row)
            except FieldError as exc:
                report.field_error("shipment", _row_key(entity, row, f"row {n}"), exc)
                continue
            code, day, qty = values["product_code"], values["ship_date"], values["quantity"]
            identity = entity.key_values(row) if keyed else (code, day, qty)
            if identity in seen:
                report.issue(
                    IssueReason.DUPLICATE_ROW, "shipment", label(identity), "the same line twice"
                )
                continue
            seen.add(identity)
            if qty < 0:
                report.issue(
                    IssueReason.NEGATIVE_QUANTITY,
                    "shipment",
                    label(identity),
                    f"quantity {qty} is negative",
                    field="quantity",
                )
                continue
            if day > as_of:
                report.issue(
                    IssueReason.FUTURE_DATE,
                    "shipment",
                    label(identity),
                    f"ship date {day} is after the business date {as_of}",
                    field="ship_date",
                )
                continue
            if products is not None:
                product = products.get(code)
                if product is None:
                    report.issue(
                        IssueReason.UNKNOWN_ITEM,
                        "shipment",
                        label(identity),
                        f"item {code} is not in the customer's item list",
                        field="product_code",
                    )
                    continue
                if qty % product.pack_size:
                    report.issue(
                        IssueReason.INCONSISTENT_PACK_SIZE,
                        "shipment",
                        label(identity),
                        f"quantity {qty} of {code} is not a multiple of pack size "
                        f"{product.pack_size}; kept",
                        IssueAction.FLAGGED,
                        "quantity",
                    )
            good.append(values)
            identities.append(identity)
        shipments = _build(
            _SHIPMENTS, Shipment, good, lambda n: label(identities[n]), "shipment", report
        )
        report.kept["shipment"] = len(shipments)
        report.gaps = history_gaps(s.ship_date for s in shipments)
        for gap in report.gaps:
            report.issue(
                IssueReason.HISTORY_GAP,
                "shipment",
                f"{gap.after}..{gap.before}",
                f"no shipments at all for {gap.days} days",
                IssueAction.FLAGGED,
            )
        return shipments

    def activity(
        self, rows: list[Any], products: Mapping[str, Product] | None
    ) -> list[ConsumptionReport]:
        """Weekly product activity (EDI 852 style), one row per item and week.

        Unmappable rows, duplicates (same item and week), negative quantities, weeks not
        over by the business date and unknown items are dropped; a week start that is not
        a Monday is moved to the nearest Monday (the week it overlaps most) and counted;
        a negative stock is kept as unknown, as on items.
        """
        entity, report = self.mapping.entity("activity"), self.report
        report.received["activity"] = len(rows)
        convert = entity.converter()
        last_week = self.as_of - WEEK  # the latest week start whose 7 days are all over
        mondays: dict[date, date] = {}
        seen: set[tuple[str, date]] = set()
        good: list[dict[str, Any]] = []
        identities: list[tuple[str, date]] = []

        def label(identity: tuple[str, date]) -> str:
            return f"{identity[0]}/{identity[1]}"

        for n, row in enumerate(rows):
            try:
                values = convert(row)
            except FieldError as exc:
                report.field_error("activity", _row_key(entity, row, f"row {n}"), exc)
                continue
            code, week, qty = values["product_code"], values["week_start"], values["quantity"]
            monday = mondays.get(week)
            if monday is None:
                monday = mondays[week] = nearest_monday(week)
            if monday != week:
                report.issue(
                    IssueReason.BAD_VALUE,
                    "activity",
                    f"{code}/{week}",
                    f"week start {week} is a {week:%A}, not a Monday; moved to {monday}",
                    IssueAction.CORRECTED,
                    "week_start",
                )
                values["week_start"] = week = monday
            identity = (code, week)
            if identity in seen:
                report.issue(
                    IssueReason.DUPLICATE_ROW, "activity", label(identity), "the same week twice"
                )
                continue
            seen.add(identity)
            if qty < 0:
                report.issue(
                    IssueReason.NEGATIVE_QUANTITY,
                    "activity",
                    label(identity),
                    f"quantity {qty} is negative",
                    field="quantity",
                )
                continue
            if week > last_week:
                report.issue(
                    IssueReason.FUTURE_DATE,
                    "activity",
                    label(identity),
                    f"the week of {week} is not over by the business date {self.as_of}",
                    field="week_start",
                )
                continue
            if products is not None and code not in products:
                report.issue(
                    IssueReason.UNKNOWN_ITEM,
                    "activity",
                    label(identity),
                    f"item {code} is not in the customer's item list",
                    field="product_code",
                )
                continue
            stock = values.get("stock_on_hand")
            if stock is not None and stock < 0:
                report.issue(
                    IssueReason.NEGATIVE_STOCK,
                    "activity",
                    label(identity),
                    f"stock on hand {stock} is negative; treated as unknown",
                    IssueAction.CORRECTED,
                    "stock_on_hand",
                )
                values["stock_on_hand"] = None
            good.append(values)
            identities.append(identity)
        reports = _build(
            _ACTIVITY,
            ConsumptionReport,
            good,
            lambda n: label(identities[n]),
            "activity",
            report,
        )
        report.kept["activity"] = len(reports)
        return reports

    def prices(
        self,
        rows: list[Any],
        products: Mapping[str, Product] | None,
        currency: str | None = None,
    ) -> list[PriceRow]:
        """The customer's price list, one row per item, currency, first day and quantity
        break. Unmappable rows, duplicates, a currency ISO 4217 does not know (or, when the
        account states one, another currency), a last day before the first, a price that is
        not positive and unknown items are dropped."""
        entity, report = self.mapping.entity("price"), self.report
        report.received["price"] = len(rows)
        convert = entity.converter()
        seen: set[tuple[str, str, date, int]] = set()
        good: list[dict[str, Any]] = []
        labels: list[str] = []
        for n, row in enumerate(rows):
            try:
                values = convert(row)
            except FieldError as exc:
                report.field_error("price", _row_key(entity, row, f"row {n}"), exc)
                continue
            code, money = values["product_code"], str(values["currency"]).strip().upper()
            values["currency"] = money
            start = values["valid_from"]
            breaks_at = int(values.get("min_quantity") or 0)
            label = f"{code}/{money}/{start}" + (f"/from {breaks_at}" if breaks_at > 1 else "")
            identity = (code, money, start, breaks_at)
            problem = (
                (IssueReason.DUPLICATE_ROW, "the same price twice", "valid_from")
                if identity in seen
                else _price_problem(values, products, currency)
            )
            seen.add(identity)
            if problem is not None:
                reason, detail, field = problem
                report.issue(reason, "price", label, detail, field=field)
                continue
            good.append(values)
            labels.append(label)
        prices = _build(_PRICES, PriceRow, good, labels.__getitem__, "price", report)
        report.kept["price"] = len(prices)
        return prices

    def orders(self, rows: list[Any], products: Mapping[str, Product] | None) -> list[ErpOrder]:
        entity, report = self.mapping.entity("order"), self.report
        line_entity = self.mapping.entity("order_line")
        report.received["order"] = len(rows)
        kept: dict[str, dict[str, Any]] = {}
        skip = frozenset({"lines"})
        for n, row in enumerate(rows):
            key = _row_key(entity, row, f"row {n}")
            try:
                values = entity.convert(row, skip=skip)
                raw_lines = entity.raw(row, "lines")
                if not isinstance(raw_lines, list):
                    raise FieldError("lines", entity.by_name["lines"].erp, "missing", missing=True)
            except FieldError as exc:
                report.field_error("order", key, exc)
                continue
            number = values["order_number"]
            if number in kept:
                report.issue(IssueReason.DUPLICATE_ROW, "order", number, "the same order twice")
                continue
            if values["ordered_on"] > self.as_of:
                report.issue(
                    IssueReason.FUTURE_DATE,
                    "order",
                    number,
                    f"order date {values['ordered_on']} is after the business date {self.as_of}",
                    field="ordered_on",
                )
                continue
            values["lines"] = self._lines(number, raw_lines, line_entity, products)
            if not values["lines"]:
                report.issue(
                    IssueReason.BAD_VALUE, "order", number, "no valid lines left", field="lines"
                )
                continue
            kept[number] = values
        numbers = list(kept)
        orders = _build(
            _ORDERS, ErpOrder, list(kept.values()), numbers.__getitem__, "order", report
        )
        report.kept["order"] = len(orders)
        return orders

    def _lines(
        self,
        number: str,
        raw_lines: Iterable[Any],
        entity: EntityMap,
        products: Mapping[str, Product] | None,
    ) -> list[dict[str, Any]]:
        report, lines = self.report, []
        for n, raw in enumerate(raw_lines, start=1):
            try:
                line = entity.convert(raw)
            except FieldError as exc:
                report.field_error("order_line", f"{number}/{_row_key(entity, raw, str(n))}", exc)
                continue
            code, qty = line["product_code"], line["quantity"]
            if qty > 0 and (products is None or code in products):
                lines.append(line)
                continue
            key = f"{number}/{_row_key(entity, raw, str(n))}"
            if qty <= 0:
                report.issue(
                    IssueReason.NEGATIVE_QUANTITY,
                    "order_line",
                    key,
                    f"quantity {qty} is not positive",
                    field="quantity",
                )
                continue
            report.issue(
                IssueReason.UNKNOWN_ITEM,
                "order_line",
                key,
                f"item {code} is not in the customer's item list",
                field="product_code",
            )
        return lines


def history_gaps(days: Iterable[date]) -> list[HistoryGap]:
    """Silences in the shipment history far longer than the customer's usual rhythm."""
    distinct = sorted(set(days))
    if len(distinct) < 3:
        return []
    intervals = [(b - a).days for a, b in pairwise(distinct)]
    threshold = max(MIN_GAP_DAYS, GAP_FACTOR * statistics.median(intervals))
    return [
        HistoryGap(after=a, before=b, days=(b - a).days)
        for a, b in pairwise(distinct)
        if (b - a).days > threshold
    ]
