"""The ERP's weekly product activity (EDI 852 style): what the simulated customer consumed
and had on hand per week, in its history and as the clock moves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from erp.simulator.erp_format import parse_ymd, ymd
from erp.simulator.generator import (
    DEMO_SMALL,
    CustomerSpec,
    WeeklyActivity,
    demo_spec,
    generate_customer,
    week_start,
)
from erp.simulator.world import SimWorld
from planning.models import OrderStatus
from tests.plugins.erp_sim import ErpSim, start_erp_sim

MONDAY = date(2026, 3, 2)
START = date(2026, 5, 7)  # a Thursday: the world starts in the middle of a week
CODE = "ACT-1"
SPEC = CustomerSpec(
    code=CODE, name="Activity Test Ltd", n_products=30, monthly_cartons=9_000, lead_time_weeks=4
)
Row = dict[str, Any]


def test_history_weeks_balance_with_deliveries_and_end_at_todays_stock() -> None:
    customer = generate_customer(demo_spec(DEMO_SMALL), seed=11, today=MONDAY)
    activity = customer.activity
    weeks = activity.complete_weeks(MONDAY)
    assert activity.first_week.weekday() == 0
    assert weeks >= 155  # about three years, from the first Monday of the history
    assert activity.week_start_of(weeks) == MONDAY  # every week before today is complete
    # Stock at each week's end = the week before's - consumed + delivered in the week.
    delivered = np.zeros((weeks, len(customer.products)), dtype=np.int64)
    for record in customer.order_records:
        k = (record.deliver_on - activity.first_week).days // 7
        if record.status is OrderStatus.DELIVERED and 0 <= k < weeks:
            for i, quantity in record.lines:
                delivered[k, i] += quantity
    sold = activity.sold[:weeks].astype(np.int64)
    on_hand = activity.on_hand[: weeks + 1]
    assert np.array_equal(on_hand[1:], on_hand[:-1] - sold + delivered)
    assert np.array_equal(on_hand[weeks], [p.stock_on_hand for p in customer.products])
    # Consumed is served demand: never more than the true demand of the week.
    demand = customer.demand(activity.first_week, weeks * 7)
    weekly = demand.reshape(len(customer.products), weeks, 7).sum(axis=2).T
    assert (sold <= weekly).all() and (sold >= 0).all()
    assert sold.sum() > 0.9 * weekly.sum()  # the customer rarely ran out
    assert (on_hand >= 0).all()


def test_activity_is_the_same_for_the_same_seed() -> None:
    one = generate_customer(demo_spec(DEMO_SMALL), seed=4, today=MONDAY).activity
    two = generate_customer(demo_spec(DEMO_SMALL), seed=4, today=MONDAY).activity
    weeks = one.complete_weeks(MONDAY)
    assert np.array_equal(one.sold[:weeks], two.sold[:weeks])
    assert np.array_equal(one.on_hand[: weeks + 1], two.on_hand[: weeks + 1])


def test_weekly_activity_refuses_gaps_and_grows_by_itself() -> None:
    activity = WeeklyActivity(MONDAY, np.array([5, 0]))
    with pytest.raises(ValueError, match="Monday"):
        WeeklyActivity(MONDAY + timedelta(days=1), np.array([5, 0]))
    for day in range(200):
        activity.record(MONDAY + timedelta(days=day), np.array([1, 0]), np.array([4, 9]))
    with pytest.raises(ValueError, match="recorded up to"):
        activity.record(MONDAY + timedelta(days=201), np.array([1, 0]), np.array([4, 9]))
    assert activity.complete_weeks(MONDAY + timedelta(days=500)) == 200 // 7
    assert activity.complete_weeks(MONDAY + timedelta(days=13)) == 1
    assert activity.sold[:28].tolist() == [[7, 0]] * 28
    assert activity.first_week_from(MONDAY + timedelta(days=1)) == 1
    assert activity.first_week_from(MONDAY - timedelta(weeks=3)) == 0


# -- over HTTP, on simulators of the tests' own, whose clocks they move ------------------------


@pytest.fixture
def own_sim() -> Iterator[ErpSim]:
    """A simulator of this test's own: moving its clock disturbs no other test."""
    world = SimWorld(today=START, seed=9)
    world.add_spec(SPEC, seed=9)
    sim = start_erp_sim(world)
    try:
        yield sim
    finally:
        sim.server.stop()


def api(sim: ErpSim) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=sim.base_url, headers={"X-Api-Key": sim.api_key})


async def activity_rows(
    sim: ErpSim, since: date | None = None, size: int = 5000, code: str = CODE
) -> list[Row]:
    params: dict[str, Any] = {"PAGE_SIZE": size}
    if since is not None:
        params["FROM_DATE"] = ymd(since)
    rows: list[Row] = []
    async with api(sim) as http:
        page = 1
        while True:
            response = await http.get(
                f"/api/v1/customers/{code}/activity", params={**params, "PAGE_NO": page}
            )
            assert response.status_code == 200, response.text
            body = response.json()
            rows += body["ROWS"]
            if page >= body["TOTAL_PAGES"]:
                assert len(rows) == body["TOTAL_ROWS"]
                return rows
            page += 1


async def stock(sim: ErpSim) -> dict[str, int]:
    async with api(sim) as http:
        response = await http.get(f"/api/v1/customers/{CODE}/items", params={"PAGE_SIZE": 5000})
    return {row["ITEM_CODE"]: row["SOH_QTY"] for row in response.json()["ROWS"]}


async def advance(sim: ErpSim, days: int) -> int:
    async with sim.admin() as admin:
        response = await admin.post("/admin/clock/advance", json={"days": days})
    assert response.status_code == 200, response.text
    consumed: int = response.json()["cartons_consumed"]
    return consumed


def by_week(rows: list[Row]) -> dict[str, dict[str, Row]]:
    weeks: dict[str, dict[str, Row]] = defaultdict(dict)
    for row in rows:
        assert row["ITEM_CODE"] not in weeks[row["WEEK_START_DT"]]  # one row per item and week
        weeks[row["WEEK_START_DT"]][row["ITEM_CODE"]] = row
    return weeks


def delivered_between(sim: ErpSim, first: date, last: date) -> dict[str, int]:
    state = sim.world.customer(CODE)
    out: dict[str, int] = defaultdict(int)
    for record in state.orders.values():
        if record.status is OrderStatus.DELIVERED and first <= record.deliver_on <= last:
            for i, quantity in record.lines:
                out[state.codes[i]] += quantity
    return out


async def test_consumption_follows_the_clock_week_by_week(own_sim: ErpSim) -> None:
    this_week = week_start(START)  # Monday 4 May; Thursday the 7th has not happened yet
    history = by_week(await activity_rows(own_sim))
    weeks = sorted(history)
    assert weeks[-1] == ymd(this_week - timedelta(weeks=1))  # only complete weeks
    assert len(weeks) >= 150  # the generator's simulated past
    assert all(parse_ymd(w).weekday() == 0 for w in weeks)
    on_hand: dict[str, int] = {}  # each item's latest reported stock: a missing item kept it
    for w in weeks:
        on_hand.update({code: row["QTY_ON_HAND"] for code, row in history[w].items()})

    # Thursday to Sunday pass: the week of 4 May is now complete, half history, half clock.
    consumed = [await advance(own_sim, 4)]
    soh = await stock(own_sim)
    straddling = by_week(await activity_rows(own_sim, since=this_week))
    assert list(straddling) == [ymd(this_week)]
    week = straddling[ymd(this_week)]
    delivered = delivered_between(own_sim, this_week, this_week + timedelta(days=6))
    assert set(on_hand) <= set(soh) and len(on_hand) > 0.8 * len(soh)
    for code, now in soh.items():
        before, row = on_hand.get(code), week.get(code)  # never listed: it never moved
        if row is None:  # left out: nothing consumed and the stock did not change
            assert before in (None, now) and code not in delivered
            continue
        assert row["QTY_ON_HAND"] == now  # Monday: the week's end stock is today's
        if before is not None:
            assert now == before - row["QTY_SOLD"] + delivered.get(code, 0)

    # Three more weeks, in steps that do not end on a week's boundary.
    consumed += [await advance(own_sim, 9), await advance(own_sim, 12)]
    monday = this_week + timedelta(weeks=4)
    assert own_sim.world.today == monday
    new = by_week(await activity_rows(own_sim, since=this_week + timedelta(weeks=1)))
    assert sorted(new) == [ymd(this_week + timedelta(weeks=k)) for k in (1, 2, 3)]
    sold = sum(row["QTY_SOLD"] for rows in new.values() for row in rows.values())
    first_days = sum(row["QTY_SOLD"] for row in week.values())
    # What the clock consumed is exactly what the weeks report: the four days of the first
    # advance are part of the week of 4 May (with its three days of history).
    assert sold == consumed[1] + consumed[2]
    assert consumed[0] <= first_days
    soh = await stock(own_sim)
    last = new[ymd(monday - timedelta(weeks=1))]
    assert {code: row["QTY_ON_HAND"] for code, row in last.items()} == {
        code: soh[code] for code in last
    }
    demand = own_sim.world.customer(CODE).process(this_week + timedelta(weeks=1), 21)
    codes = own_sim.world.customer(CODE).codes
    for k, rows in enumerate(new.values()):
        for code, row in rows.items():
            i = codes.index(code)
            assert 0 <= row["QTY_SOLD"] <= demand[i, 7 * k : 7 * k + 7].sum()


async def test_paging_and_from_date(own_sim: ErpSim) -> None:
    today = own_sim.world.today
    recent = today - timedelta(weeks=10)
    whole = await activity_rows(own_sim, since=recent)
    paged = await activity_rows(own_sim, since=recent, size=7)
    assert paged == whole and len(whole) > 7
    assert [r["WEEK_START_DT"] for r in whole] == sorted(r["WEEK_START_DT"] for r in whole)
    midweek = week_start(recent) + timedelta(days=2)  # weeks starting on or after it
    later = await activity_rows(own_sim, since=midweek)
    assert min(r["WEEK_START_DT"] for r in later) == ymd(week_start(recent) + timedelta(weeks=1))
    assert later == [r for r in whole if parse_ymd(r["WEEK_START_DT"]) >= midweek]
    assert await activity_rows(own_sim, since=today) == []
    async with api(own_sim) as http:
        url = f"/api/v1/customers/{CODE}/activity"
        bad = await http.get(url, params={"FROM_DATE": "2026-01-01"})
        unknown = await http.get("/api/v1/customers/NOBODY/activity")
        beyond = (await http.get(url, params={"FROM_DATE": ymd(recent), "PAGE_NO": 99})).json()
    async with httpx.AsyncClient(base_url=own_sim.base_url) as anonymous:
        refused = await anonymous.get(url)
    assert bad.status_code == 400 and bad.json()["ERR_CD"] == "E_BAD_REQUEST"
    assert unknown.status_code == 404 and unknown.json()["ERR_CD"] == "E_NOT_FOUND"
    assert refused.status_code == 401
    assert beyond["ROWS"] == [] and beyond["TOTAL_ROWS"] == len(whole)


async def test_raw_activity_rows_can_be_injected(erp_sim: ErpSim, fresh_customer: str) -> None:
    broken = {"ITEM_CODE": "GHOST", "WEEK_START_DT": "not a date", "QTY_SOLD": -1}
    async with erp_sim.admin() as admin:
        url = f"/admin/customers/{fresh_customer}/rows/activity"
        response = await admin.post(url, json=[broken])
    assert response.json() == {"dataset": "activity", "injected_total": 1}
    today = erp_sim.world.today
    rows = await activity_rows(erp_sim, since=today, code=fresh_customer)
    assert rows == [broken]  # served verbatim, whatever the filter
