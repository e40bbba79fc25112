"""The customer's price list and credit position: served by the simulator, mapped (amounts
as Decimal, never floats), validated like the other listings (bad rows reported, never
fatal), and read only when the mapping has them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
import yaml

from erp.client import ErpClient, build_http_client
from erp.errors import ErpRejected
from erp.mapping import DEFAULT_MAPPING_FILE, ErpMapping, MappingError
from erp.models import IssueReason, OrderSubmission
from erp.simulator.erp_format import ymd
from erp.simulator.generator import DEMO_SMALL
from planning.models import OrderLine, PriceRow
from planning.pricing import by_product, line_value, price_for
from tests.plugins.erp_sim import ErpSim


def mapping_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_MAPPING_FILE.read_text())
    return data


async def _client(erp_sim: ErpSim, data: dict[str, Any]) -> tuple[httpx.AsyncClient, ErpClient]:
    http = build_http_client(erp_sim.settings())
    mapping = ErpMapping.from_dict(data)
    return http, ErpClient(http, base_url=erp_sim.base_url, api_key=erp_sim.api_key,
                           mapping=mapping)  # fmt: skip


async def test_the_sync_reads_the_price_list_and_credit_position(
    erp_client: ErpClient, erp_sim: ErpSim
) -> None:
    snapshot = await erp_client.sync_snapshot(DEMO_SMALL)
    state = erp_sim.world.customer(DEMO_SMALL)
    assert snapshot.prices_reported
    assert snapshot.prices == state.prices  # every row, exact to the cent
    assert all(isinstance(p.unit_price, Decimal) for p in snapshot.prices)
    assert snapshot.profile == state.profile
    assert snapshot.profile.currency == "EUR" and snapshot.profile.payment_terms == "NET30"
    report = snapshot.data_quality
    assert report.clean, report.counts
    assert report.rows_received["price"] == report.rows_kept["price"] == len(state.prices)


async def test_bad_price_rows_land_in_the_data_quality_report(
    erp_client: ErpClient, erp_sim: ErpSim, fresh_customer: str
) -> None:
    code = fresh_customer
    real = erp_sim.world.customer(code).prices[1]
    item, day = real.product_code, ymd(real.valid_from)

    def row(**values: Any) -> dict[str, Any]:
        base = {"ITEM_CODE": item, "CURR_CD": "EUR", "UNIT_PRICE": "9.99",
                "VALID_FROM": "20200101", "VALID_TO": None, "MIN_QTY": 0}  # fmt: skip
        return {**base, **values}

    rows = [
        row(VALID_FROM=day),  # the same item, currency, day and break as a real row
        row(UNIT_PRICE="nine"),
        row(UNIT_PRICE="-1.00", VALID_FROM="20200102"),
        row(UNIT_PRICE=None, VALID_FROM="20200103"),
        row(CURR_CD="XQZ", VALID_FROM="20200104"),
        row(CURR_CD="USD", VALID_FROM="20200105"),  # the account is in EUR
        row(VALID_FROM="20200106", VALID_TO="20200101"),
        row(ITEM_CODE="GHOST"),
        row(VALID_FROM="20200107", UNIT_PRICE=12.5, MIN_QTY=500),  # kept: a JSON number
    ]
    async with erp_sim.admin() as admin:
        added = await admin.post(f"/admin/customers/{code}/rows/prices", json=rows)
        assert added.status_code == 200, added.text
    snapshot = await erp_client.sync_snapshot(code)
    report = snapshot.data_quality
    assert report.counts == {
        IssueReason.DUPLICATE_ROW: 1,
        IssueReason.BAD_VALUE: 5,  # "nine", -1.00, XQZ, USD, valid to before from
        IssueReason.MISSING_FIELD: 1,
        IssueReason.UNKNOWN_ITEM: 1,
    }
    fields = {e.field for e in report.examples if e.entity == "price"}
    assert {"unit_price", "currency", "valid_to", "product_code"} <= fields
    assert report.rows_received["price"] == report.rows_kept["price"] + 8
    kept = [p for p in snapshot.prices if p.valid_from == date(2020, 1, 7)]
    assert kept == [PriceRow(product_code=item, currency="EUR", unit_price=Decimal("12.5"),
                             valid_from=date(2020, 1, 7), min_quantity=500)]  # fmt: skip
    duplicate = [
        p for p in snapshot.prices if p.product_code == item and p.valid_from == real.valid_from
    ]
    assert [p.unit_price for p in duplicate if p.min_quantity == 0] == [real.unit_price]


async def test_a_bad_credit_value_is_reported_and_left_out(erp_sim: ErpSim) -> None:
    data = mapping_data()
    # A stand-in for a broken ERP: the limit read from a field that holds text.
    data["entities"]["customer"]["fields"]["credit_limit"]["field"] = "TZ"
    http, client = await _client(erp_sim, data)
    async with http:
        snapshot = await client.sync_snapshot(DEMO_SMALL)
    assert snapshot.profile.credit_limit is None
    assert snapshot.profile.open_balance is not None  # the rest of the position stays
    report = snapshot.data_quality
    assert report.counts == {IssueReason.BAD_VALUE: 1}
    [issue] = report.examples
    assert (issue.entity, issue.field, issue.key) == ("customer", "credit_limit", DEMO_SMALL)


async def test_a_mapping_without_prices_fetches_none(erp_sim: ErpSim) -> None:
    data = mapping_data()
    del data["endpoints"]["prices"]
    paths: list[str] = []
    http, client = await _client(erp_sim, data)

    async def record(request: httpx.Request) -> None:
        paths.append(request.url.path)

    http.event_hooks["request"].append(record)
    async with http:
        snapshot = await client.sync_snapshot(DEMO_SMALL)
    assert not snapshot.prices_reported and snapshot.prices == []
    assert not any(p.endswith("/prices") for p in paths)
    assert "price" not in snapshot.data_quality.rows_received


def test_price_mapping_mistakes_are_named() -> None:
    data = mapping_data()
    del data["entities"]["price"]
    with pytest.raises(MappingError, match="needs an price entity"):
        ErpMapping.from_dict(data)
    data = mapping_data()
    data["entities"]["price"]["fields"]["unit_price"]["type"] = "float"
    with pytest.raises(MappingError, match="decimal field 'unit_price'"):
        ErpMapping.from_dict(data)


async def test_the_erp_refuses_an_order_over_the_credit_left(
    erp_client: ErpClient, erp_sim: ErpSim, fresh_customer: str
) -> None:
    code = fresh_customer
    state = erp_sim.world.customer(code)
    product = state.products[0]
    quantity = product.pack_size * 10
    priced = line_value(by_product(state.prices), product.code, quantity, erp_sim.world.today)
    assert priced is not None
    value = priced[0]
    async with erp_sim.admin() as admin:
        limited = await admin.patch(
            f"/admin/customers/{code}",
            json={"credit_limit": str(value + 100), "open_balance": "200.00"},
        )
        assert limited.status_code == 204, limited.text
    profile = await erp_client.get_customer(code)
    assert profile.available_credit == value - 100
    order = OrderSubmission(
        reference="credit-test", lines=[OrderLine(product_code=product.code, quantity=quantity)]
    )
    with pytest.raises(ErpRejected, match="E_CREDIT_LIMIT"):
        await erp_client.submit_order(code, order, "credit-test-1")


def test_the_price_that_applies() -> None:
    day = date(2026, 6, 1)

    def row(price: str, start: date, end: date | None = None, breaks_at: int = 0) -> PriceRow:
        return PriceRow(product_code="A", currency="EUR", unit_price=Decimal(price),
                        valid_from=start, valid_to=end, min_quantity=breaks_at)  # fmt: skip

    rows = [
        row("10.40", date(2025, 6, 1), date(2026, 3, 2)),  # last year's, ended
        row("10.00", date(2026, 3, 3)),
        row("9.70", date(2026, 3, 3), breaks_at=600),
        row("9.50", date(2026, 7, 1), breaks_at=600),  # not yet valid
        row("9.90", date(2026, 5, 1)),  # a newer list price
    ]
    assert price_for(rows, 100, day) == rows[4]
    assert price_for(rows, 600, day) == rows[2]
    assert price_for(rows, 600, date(2026, 7, 1)) == rows[3]
    assert price_for(rows, 100, date(2026, 1, 1)) == rows[0]
    assert price_for(rows, 100, date(2020, 1, 1)) is None
    assert line_value({"A": rows}, "A", 600, day) == (Decimal("5820.00"), rows[2])
    assert line_value({"A": rows}, "B", 600, day) is None
