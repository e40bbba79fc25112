"""The connector reads the ERP's weekly product activity when the mapping has it, validates
it like the other listings, and fetches nothing when the mapping leaves it out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from erp.client import ErpClient, activity_window_start, build_http_client
from erp.errors import ErpBadData, ErpUnavailable
from erp.mapping import DEFAULT_MAPPING_FILE, ErpMapping, MappingError
from erp.models import IssueAction, IssueReason
from erp.simulator.erp_format import ymd
from erp.simulator.generator import DEMO_SMALL, week_start
from erp.validation import nearest_monday
from tests.plugins.erp_sim import ErpSim


def mapping_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_MAPPING_FILE.read_text())
    return data


def without_activity() -> dict[str, Any]:
    data = mapping_data()
    del data["endpoints"]["activity"]
    del data["entities"]["activity"]
    del data["entities"]["order_event"]
    return data


async def inject(erp_sim: ErpSim, code: str, rows: list[dict[str, Any]]) -> None:
    async with erp_sim.admin() as admin:
        response = await admin.post(f"/admin/customers/{code}/rows/activity", json=rows)
    assert response.status_code == 200, response.text


async def test_the_sync_returns_the_weeks_the_customer_consumed(
    erp_client: ErpClient, erp_sim: ErpSim
) -> None:
    snapshot = await erp_client.sync_snapshot(DEMO_SMALL)
    today = snapshot.erp_as_of
    since = week_start(today) - timedelta(weeks=52)
    assert snapshot.consumption_reported and snapshot.consumption_since == since
    weeks = [since + timedelta(weeks=k) for k in range(52)]
    assert sorted({r.week_start for r in snapshot.consumption}) == weeks
    assert [r.week_start for r in snapshot.consumption] == sorted(
        r.week_start for r in snapshot.consumption
    )
    # Exactly what the simulated customer consumed and had left, item by item.
    state = erp_sim.world.customer(DEMO_SMALL)
    activity, index = state.activity, state.index
    first = activity.first_week_from(since)
    expected = {
        (state.codes[i], activity.week_start_of(k)): (
            int(activity.sold[k, i]),
            int(activity.on_hand[k + 1, i]),
        )
        for k in range(first, first + 52)
        for i in activity.active(k).tolist()
    }
    got = {
        (r.product_code, r.week_start): (r.quantity, r.stock_on_hand) for r in snapshot.consumption
    }
    assert got == expected
    assert all(r.product_code in index for r in snapshot.consumption)
    report = snapshot.data_quality
    assert report.clean, report.counts
    assert report.rows_received["activity"] == report.rows_kept["activity"] == len(got)


async def test_activity_since_limits_the_weeks(erp_client: ErpClient) -> None:
    snapshot = await erp_client.sync_snapshot(DEMO_SMALL)
    recent = week_start(snapshot.erp_as_of) - timedelta(weeks=3)
    later = await erp_client.sync_snapshot(DEMO_SMALL, activity_since=recent)
    assert later.consumption_since == recent
    assert later.consumption == [r for r in snapshot.consumption if r.week_start >= recent]
    assert {r.week_start for r in later.consumption} == {
        recent + timedelta(weeks=k) for k in range(3)
    }
    assert await erp_client.list_activity(DEMO_SMALL, since=recent) == later.consumption
    assert activity_window_start(date(2026, 3, 4)) == date(2025, 3, 3)  # a Wednesday
    assert activity_window_start(date(2026, 3, 2)) == date(2025, 3, 3)  # a Monday


async def test_a_mapping_without_activity_fetches_none(erp_sim: ErpSim, tmp_path: Path) -> None:
    path = tmp_path / "no-852.yaml"
    path.write_text(yaml.safe_dump(without_activity()))
    mapping = ErpMapping.from_file(path)
    assert not mapping.has_activity and ErpMapping.default().has_activity
    paths: list[str] = []

    async def record(request: httpx.Request) -> None:
        paths.append(request.url.path)

    settings = erp_sim.settings(erp_mapping_file=path)
    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        client = ErpClient.from_settings(settings, http)
        snapshot = await client.sync_snapshot(DEMO_SMALL)
        with pytest.raises(MappingError, match="no activity endpoint"):
            await client.list_activity(DEMO_SMALL)
    assert paths and not [p for p in paths if p.endswith("/activity")]
    assert snapshot.consumption == [] and not snapshot.consumption_reported
    assert snapshot.consumption_since is None
    assert "activity" not in snapshot.data_quality.rows_received
    assert snapshot.products and snapshot.shipments and snapshot.orders


def test_activity_mapping_mistakes_are_named() -> None:
    data = mapping_data()
    del data["entities"]["activity"]
    with pytest.raises(MappingError, match="activity endpoint needs an activity entity"):
        ErpMapping.from_dict(data)
    data = mapping_data()
    data["entities"]["activity"]["fields"]["week_start"] = "WEEK_START_DT"  # text, not a date
    with pytest.raises(MappingError, match="date field 'week_start'"):
        ErpMapping.from_dict(data)
    data = mapping_data()
    del data["endpoints"]["activity"]  # the entity alone is harmless: nothing reads it
    assert not ErpMapping.from_dict(data).has_activity
    data = mapping_data()
    del data["endpoints"]["shipments"]  # the others stay required
    with pytest.raises(MappingError, match="endpoints missing: shipments"):
        ErpMapping.from_dict(data)


def test_a_week_start_moves_to_the_nearest_monday() -> None:
    monday = date(2026, 3, 2)
    moved = {
        monday + timedelta(days=d): nearest_monday(monday + timedelta(days=d)) for d in range(7)
    }
    assert [moved[monday + timedelta(days=d)] for d in range(7)] == [monday] * 4 + [
        monday + timedelta(weeks=1)
    ] * 3


async def test_bad_activity_rows_land_in_the_data_quality_report(
    erp_client: ErpClient, erp_sim: ErpSim, fresh_customer: str
) -> None:
    code = fresh_customer
    today = erp_sim.world.today
    last = week_start(today) - timedelta(weeks=1)  # the latest complete week
    real = (await erp_client.list_activity(code, since=last))[0]
    item = real.product_code
    old = week_start(today) - timedelta(weeks=80)  # outside the sync's window: no real rows

    def row(week: date | str, sold: Any = 5, on_hand: Any = 10, **extra: Any) -> dict[str, Any]:
        day = week if isinstance(week, str) else ymd(week)
        values = {"ITEM_CODE": item, "WEEK_START_DT": day, "QTY_SOLD": sold, "QTY_ON_HAND": on_hand}
        return {**values, **extra}

    await inject(
        erp_sim,
        code,
        [
            row(last, sold=999),  # the same item and week as a real row
            row("20260231"),  # no such date
            {"ITEM_CODE": item, "WEEK_START_DT": ymd(old)},  # no quantity
            row(old + timedelta(weeks=1), sold=-3),
            row(week_start(today)),  # this week is not over
            row(old + timedelta(weeks=2), ITEM_CODE="GHOST"),
            row(old + timedelta(weeks=3, days=1)),  # a Tuesday: moved back to its Monday
            row(old + timedelta(weeks=5, days=-2)),  # a Saturday: moved on to the Monday after
            row(old + timedelta(weeks=6), on_hand=-4),  # kept, stock unknown
        ],
    )
    snapshot = await erp_client.sync_snapshot(code)
    report = snapshot.data_quality
    assert report.counts == {
        IssueReason.BAD_VALUE: 3,  # the impossible date and the two week starts moved
        IssueReason.MISSING_FIELD: 1,
        IssueReason.DUPLICATE_ROW: 1,
        IssueReason.NEGATIVE_QUANTITY: 1,
        IssueReason.FUTURE_DATE: 1,
        IssueReason.UNKNOWN_ITEM: 1,
        IssueReason.NEGATIVE_STOCK: 1,
    }
    assert report.rows_received["activity"] == report.rows_kept["activity"] + 6
    kept = {(r.product_code, r.week_start): r for r in snapshot.consumption}
    assert kept[(item, last)].quantity == real.quantity != 999
    assert kept[(item, old + timedelta(weeks=3))].quantity == 5
    assert kept[(item, old + timedelta(weeks=5))].quantity == 5
    assert kept[(item, old + timedelta(weeks=6))].stock_on_hand is None
    assert all(r.week_start.weekday() == 0 for r in snapshot.consumption)
    assert all(r.week_start + timedelta(days=7) <= today for r in snapshot.consumption)
    assert "GHOST" not in {r.product_code for r in snapshot.consumption}
    moved = [e for e in report.examples if e.action is IssueAction.CORRECTED]
    assert {e.field for e in moved} == {"week_start", "stock_on_hand"}
    assert all(e.entity == "activity" for e in moved)
    missing = next(e for e in report.examples if e.reason is IssueReason.MISSING_FIELD)
    assert missing.field == "quantity" and "QTY_SOLD" in missing.detail


@pytest.fixture
async def impatient_client(erp_sim: ErpSim) -> AsyncIterator[ErpClient]:
    http = build_http_client(erp_sim.settings())
    try:
        yield ErpClient(http, base_url=erp_sim.base_url, api_key=erp_sim.api_key, get_retries=0)
    finally:
        await http.aclose()
        erp_sim.reset_faults()


async def test_faults_on_the_activity_endpoint(
    impatient_client: ErpClient, erp_sim: ErpSim
) -> None:
    with erp_sim.faults(endpoints=["activity"], error_rate=1.0):
        await impatient_client.list_products(DEMO_SMALL)  # the other listings are unaffected
        with pytest.raises(ErpUnavailable):
            await impatient_client.sync_snapshot(DEMO_SMALL)
    malformed = erp_sim.faults(endpoints=["activity"], malformed_rate=1.0, times=1)
    with malformed, pytest.raises(ErpBadData):
        await impatient_client.list_activity(DEMO_SMALL)
    assert (await impatient_client.sync_snapshot(DEMO_SMALL)).consumption
