"""Lead time measured from delivered orders, and what the plan does with it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from planning import plan
from planning.leadtime import LeadTimeSource, lead_time
from planning.models import ErpOrder, OrderLine, OrderStatus
from planning.settings import PlanSettings
from tests.planning.factories import AS_OF, plan_input, product, weekly_shipments


def _delivered(days: list[int], *, ago_weeks: int = 10) -> list[ErpOrder]:
    return [
        ErpOrder(
            order_number=f"D{k}",
            status=OrderStatus.DELIVERED,
            ordered_on=AS_OF - timedelta(weeks=ago_weeks) - timedelta(days=d),
            delivered_on=AS_OF - timedelta(weeks=ago_weeks),
            lines=[OrderLine(product_code="A", quantity=10)],
        )
        for k, d in enumerate(days)
    ]


def test_mean_and_spread_of_ordered_to_delivered() -> None:
    # 42, 42, 49, 49, 56 days: mean 47.6 days = 6.8 weeks; sample sd 5.86 days = 0.837 weeks.
    lead = lead_time(_delivered([42, 42, 49, 49, 56]), AS_OF, PlanSettings())
    assert lead.source is LeadTimeSource.MEASURED and lead.orders == 5
    assert lead.weeks == pytest.approx(6.8)
    assert lead.sd_weeks == pytest.approx(0.8367, abs=1e-4)


def test_too_few_recent_deliveries_fall_back_to_the_settings() -> None:
    settings = PlanSettings(lead_time_weeks=9)
    assert lead_time(_delivered([42] * 4), AS_OF, settings).source is LeadTimeSource.SETTINGS
    old = _delivered([42] * 6, ago_weeks=60)  # outside lead_time_history_weeks (52)
    assert lead_time(old, AS_OF, settings).weeks == 9
    others = [o.model_copy(update={"status": OrderStatus.IN_TRANSIT}) for o in _delivered([1] * 6)]
    assert lead_time(others, AS_OF, settings).source is LeadTimeSource.SETTINGS
    off = PlanSettings(lead_time_weeks=9, measure_lead_time=False)
    assert lead_time(_delivered([42] * 6), AS_OF, off).source is LeadTimeSource.SETTINGS


def test_the_plan_uses_and_names_the_measured_lead_time() -> None:
    # Deliveries take 8 weeks although the settings say 4: stock at arrival and the arrival
    # date follow the deliveries, and the explanation says which lead time it used.
    inp = plan_input(
        [product("A", stock_on_hand=1000)],
        weekly_shipments("A", [100] * 20),
        lead_time_weeks=4,
        forecast_method="trailing_average",
        safety_stock_mode="weeks",
        last_container="keep",
    ).model_copy(update={"order_history": _delivered([56] * 6)})
    rec = plan(inp)
    e = rec.lines[0].explanation
    assert e is not None
    assert e.arrival_date == AS_OF + timedelta(weeks=8) and e.stock_at_arrival == 200
    assert e.lead_time_weeks == 8.0
    assert "lead time 8.0 weeks, measured on 6 deliveries (spread 0.0)" in e.text
    assert rec.lead_time is not None
    assert (rec.lead_time.source, rec.lead_time.orders) == ("measured", 6)


def test_lead_time_spread_adds_to_service_level_safety_stock() -> None:
    # Flat 100 a week: the forecast is exact, so safety comes from the lead time's spread:
    # z * d * sigma_L = 1.6449 x 100 x 1 week = 164.5.
    def safety(days: list[int]) -> int:
        inp = plan_input(
            [product("A", stock_on_hand=0)],
            weekly_shipments("A", [100] * 40),
            forecast_method="trailing_average",
            safety_stock_mode="service_level",
            service_level=0.95,
            last_container="keep",
        ).model_copy(update={"order_history": _delivered(days)})
        e = plan(inp).lines[0].explanation
        assert e is not None
        return e.safety_stock_cartons

    assert safety([49] * 6) == 0
    assert safety([42, 56, 42, 56, 42, 56]) == round(1.6449 * 100 * (7.6681 / 7))
