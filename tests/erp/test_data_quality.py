"""Deliberately broken ERP data: the sync succeeds, bad rows are counted with reasons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from erp.client import ErpClient
from erp.models import DataQualityReport, IssueAction, IssueReason
from erp.simulator.erp_format import dmy, ymd
from tests.plugins.erp_sim import ErpSim


async def inject(erp_sim: ErpSim, code: str, dataset: str, rows: list[dict[str, Any]]) -> None:
    async with erp_sim.admin() as admin:
        response = await admin.post(f"/admin/customers/{code}/rows/{dataset}", json=rows)
    assert response.status_code == 200, response.text


def item(code: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "ITEM_CODE": code,
        "ITEM_DESC": f"Injected {code}",
        "PACK_QTY": 6,
        "MOQ_QTY": 12,
        "ITEM_STAT": "A",
        "GROSS_WT_G": 300,
        "CTN_VOL_CM3": 700,
        "SOH_QTY": 10,
    }
    return {**row, **overrides}


async def test_broken_data_is_reported_and_the_sync_succeeds(
    erp_client: ErpClient, erp_sim: ErpSim, fresh_customer: str
) -> None:
    code = fresh_customer
    state = erp_sim.world.customer(code)
    today = erp_sim.world.today
    real = state.products[0]
    real_shipment = state.shipments[-1]
    first_ship = state.shipments[0].ship_on
    await inject(
        erp_sim,
        code,
        "items",
        [
            item("NEG-1", SOH_QTY=-5),
            item(real.code, PACK_QTY=real.pack_size, SOH_QTY=1),  # duplicate
            item(real.code, PACK_QTY=real.pack_size + 1),  # conflicting pack size
            item("ZERO-PACK", PACK_QTY=0),
            item("ODD-MOQ", PACK_QTY=6, MOQ_QTY=10),
            item("NO-DESC", ITEM_DESC=None),
            item("BAD-STAT", ITEM_STAT="X"),
        ],
    )
    await inject(
        erp_sim,
        code,
        "shipments",
        [
            {  # the same delivery-note line twice
                "DLV_NO": real_shipment.note,
                "DLV_LINE": real_shipment.line,
                "ITEM_CODE": real.code,
                "SHIP_DT": ymd(real_shipment.ship_on),
                "SHIP_QTY": real_shipment.quantity,
            },
            {
                "DLV_NO": "X1",
                "DLV_LINE": 1,
                "ITEM_CODE": "GHOST",
                "SHIP_DT": ymd(today - timedelta(days=3)),
                "SHIP_QTY": 6,
            },
            {
                "DLV_NO": "X1",
                "DLV_LINE": 2,
                "ITEM_CODE": real.code,
                "SHIP_DT": ymd(today + timedelta(days=30)),
                "SHIP_QTY": 6,
            },
            {
                "DLV_NO": "X1",
                "DLV_LINE": 3,
                "ITEM_CODE": real.code,
                "SHIP_DT": "20260231",
                "SHIP_QTY": 6,
            },
            {
                "DLV_NO": "X1",
                "DLV_LINE": 4,
                "ITEM_CODE": real.code,
                "SHIP_DT": ymd(today),
                "SHIP_QTY": -6,
            },
        ],
    )
    await inject(
        erp_sim,
        code,
        "orders",
        [
            {
                "ORDER_NO": "FUT-1",
                "ORDER_STAT": "APPR",
                "ORDER_DT": dmy(today + timedelta(days=5)),
                "ETA_DT": None,
                "DLV_DT": None,
                "CUST_REF": None,
                "LINES": [{"LINE_NO": 1, "ITEM_CODE": real.code, "ORDER_QTY": 6}],
            },
            {
                "ORDER_NO": "MIX-1",
                "ORDER_STAT": "APPR",
                "ORDER_DT": dmy(today),
                "ETA_DT": dmy(today + timedelta(weeks=6)),
                "DLV_DT": None,
                "CUST_REF": "r",
                "LINES": [
                    {"LINE_NO": 1, "ITEM_CODE": "GHOST", "ORDER_QTY": 6},
                    {"LINE_NO": 2, "ITEM_CODE": real.code, "ORDER_QTY": real.pack_size},
                ],
            },
        ],
    )
    async with erp_sim.admin() as admin:
        gap = await admin.post(
            f"/admin/customers/{code}/gap",
            json={
                "start": str(first_ship + timedelta(days=200)),
                "end": str(first_ship + timedelta(days=380)),
            },
        )
    assert gap.json()["shipments_removed"] > 0

    snapshot = await erp_client.sync_snapshot(code)
    report = snapshot.data_quality
    counts = report.counts

    assert counts[IssueReason.NEGATIVE_STOCK] == 1
    assert counts[IssueReason.DUPLICATE_ROW] == 2  # the item and the delivery-note line
    assert counts[IssueReason.INCONSISTENT_PACK_SIZE] >= 3  # conflict, zero pack, odd MOQ
    assert counts[IssueReason.MISSING_FIELD] == 1
    assert counts[IssueReason.BAD_VALUE] == 2  # unknown status code, impossible date
    assert counts[IssueReason.UNKNOWN_ITEM] == 2  # a shipment and an order line
    assert counts[IssueReason.FUTURE_DATE] == 2  # a shipment and an order
    assert counts[IssueReason.NEGATIVE_QUANTITY] == 1
    assert counts[IssueReason.HISTORY_GAP] == 1 and report.gaps[0].days > 180

    products = {p.code: p for p in snapshot.products}
    assert products["NEG-1"].stock_on_hand is None
    assert products["ODD-MOQ"].moq == 12
    assert products[real.code].pack_size == real.pack_size
    assert not {"ZERO-PACK", "NO-DESC", "BAD-STAT"} & products.keys()
    assert len(snapshot.products) == len(state.products) + 2
    assert all(s.product_code in products for s in snapshot.shipments)
    assert all(s.ship_date <= snapshot.erp_as_of for s in snapshot.shipments)
    orders = {o.order_number: o for o in snapshot.orders}
    assert "FUT-1" not in orders
    assert [ln.product_code for ln in orders["MIX-1"].lines] == [real.code]
    assert report.rows_received["product"] == len(state.products) + 7
    assert report.rows_kept["product"] == len(snapshot.products)

    examples = {(e.reason, e.key) for e in report.examples}
    assert (IssueReason.NEGATIVE_STOCK, "NEG-1") in examples
    missing = next(e for e in report.examples if e.reason is IssueReason.MISSING_FIELD)
    assert missing.field == "name" and "ITEM_DESC" in missing.detail
    assert missing.action is IssueAction.DROPPED
    assert DataQualityReport.model_validate_json(report.model_dump_json()) == report


async def test_clean_demo_data_has_a_clean_report(erp_client: ErpClient) -> None:
    from erp.simulator.generator import DEMO_MEDIUM

    snapshot = await erp_client.sync_snapshot(DEMO_MEDIUM)
    assert snapshot.data_quality.clean, snapshot.data_quality.counts
    assert snapshot.pipeline
    assert snapshot.data_quality.rows_kept["shipment"] == len(snapshot.shipments) > 1000


async def test_examples_are_capped(
    erp_client: ErpClient, erp_sim: ErpSim, fresh_customer: str
) -> None:
    await inject(
        erp_sim, fresh_customer, "items", [item(f"NEG-{i}", SOH_QTY=-1) for i in range(40)]
    )
    report = (await erp_client.sync_snapshot(fresh_customer)).data_quality
    assert report.counts[IssueReason.NEGATIVE_STOCK] == 40
    assert sum(e.reason is IssueReason.NEGATIVE_STOCK for e in report.examples) == 5
