"""The supplier's figures on a scripted November, every expected number worked out by hand
in the comments beside it."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.insights import (
    APPROVED,
    AUTO_APPROVED,
    DEFAULT_MAX_COVER_WEEKS,
    EXPIRED,
    REJECTED,
    CustomerRef,
    ForecastFact,
    OrderFact,
    Period,
    ProductStockFact,
    ReceiptFact,
    ReviewFact,
    StockFact,
    SyncFact,
    accuracy,
    approval_latencies,
    customer_kpis,
    forecast_checks,
    insights,
    observed_weekly,
    percentile,
    stock_checks,
    totals,
    trend,
)

NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1))
ACME = CustomerRef(1, "Acme", "K-1")
BOLT = CustomerRef(2, "Bolt", "K-2")


def at(day: int, hour: int = 9, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour)


REVIEWS = [
    # made in October: outside the period whatever its outcome
    ReviewFact(1, 1, at(30, month=10), APPROVED, at(30, 10, month=10), None, 50.0, 3, 999),
    ReviewFact(1, 2, at(2), APPROVED, at(2, 13), None, 90.0, 2, 100),  # 4 h
    ReviewFact(1, 3, at(9), APPROVED, at(10), None, 100.0, 1, 0),  # 24 h
    ReviewFact(1, 4, at(16), AUTO_APPROVED, at(16), None, 80.0, 1, 50),
    ReviewFact(1, 5, at(23), REJECTED, at(24), "too much stock already"),
    ReviewFact(1, 6, at(30, 10), EXPIRED, None),
    ReviewFact(1, 7, at(30, 12), None),  # still open
    ReviewFact(2, 1, at(5), APPROVED, at(5, 11), None, 100.0, 1, 0),  # 2 h
]
ORDERS = [
    OrderFact(1, 1, "delivered", date(2026, 11, 2), 20_000, date(2026, 11, 21), None,
              date(2026, 11, 20)),  # on time
    OrderFact(1, 2, "delivered", date(2026, 11, 2), 18_000, date(2026, 11, 21), None,
              date(2026, 11, 25), late=True),  # late, delivered in November
    OrderFact(1, 3, "in_transit", date(2026, 11, 10), 20_000, date(2026, 12, 20), None,
              late=True),  # late and still open
    OrderFact(1, 4, "failed", date(2026, 11, 16), 5_000),  # never placed
    OrderFact(1, 5, "delivered", date(2026, 10, 1), 9_000, None, date(2026, 11, 5),
              date(2026, 11, 3)),  # ordered in October, on time by the ERP's ETA
    OrderFact(1, 6, "cancelled", date(2026, 11, 29), 7_000),
    OrderFact(2, 7, "submitted", date(2026, 11, 5), 10_000, date(2026, 12, 30)),
]  # fmt: skip
STOCK = [StockFact(1, stocked_out=3, runs_out_before_arrival=2, excess=4, too_much_on_order=1,
                   data_quality_issues=7)]  # fmt: skip


def test_one_customers_month() -> None:
    k = customer_kpis(ACME, NOVEMBER, REVIEWS, ORDERS, STOCK[0])
    assert k.reviews == 6  # versions 2 to 7
    assert (k.approved, k.auto_approved, k.rejected, k.expired) == (2, 1, 1, 1)
    assert k.rejection_reasons == ["too much stock already"]
    assert k.approval_latency_median_h == 14.0  # median of 4 h and 24 h
    assert k.approval_latency_p90_h == 24.0  # nearest rank: the 2nd of 2
    # Of the 5 decided: 1 auto-approved, 1 rejected, 1 expired.
    assert (k.auto_approved_pct, k.rejected_pct, k.expired_pct) == (20.0, 20.0, 20.0)
    assert k.containers_ordered == 3  # orders 1, 2, 3 (failed and cancelled never placed)
    assert k.cartons_ordered == 58_000  # 20,000 + 18,000 + 20,000
    assert k.average_fill_pct == 90.0  # (90 x 2 + 100 x 1 + 80 x 1) / 4 containers
    assert k.filled_containers == 4
    assert k.pulled_forward_cartons == 150  # 100 + 0 + 50 (October's 999 left out)
    assert (k.delivered, k.delivered_on_time) == (3, 2)  # 1 and 5 on time; 2 late
    assert k.on_time_pct == 66.7
    assert k.late_shipments == 2  # 2 (delivered late in November) and 3 (open, late)
    assert (k.stocked_out, k.runs_out_before_arrival, k.excess) == (3, 2, 5)  # excess 4 + 1
    assert k.data_quality_issues == 7


def test_a_customer_without_activity_has_counts_of_zero_and_no_shares() -> None:
    quiet = customer_kpis(CustomerRef(9, "Quiet", "K-9"), NOVEMBER, REVIEWS, ORDERS, None)
    assert quiet.reviews == quiet.containers_ordered == quiet.delivered == 0
    assert quiet.approval_latency_median_h is None and quiet.on_time_pct is None
    assert quiet.auto_approved_pct is None and quiet.average_fill_pct is None


def test_every_customer_and_the_totals() -> None:
    rows = insights([ACME, BOLT], NOVEMBER, REVIEWS, ORDERS, STOCK)
    assert [r.customer.erp_code for r in rows] == ["K-1", "K-2"]
    bolt = rows[1]
    assert (bolt.reviews, bolt.approved, bolt.approval_latency_median_h) == (1, 1, 2.0)
    assert (bolt.containers_ordered, bolt.cartons_ordered, bolt.stocked_out) == (1, 10_000, 0)
    whole = totals(rows, approval_latencies(REVIEWS, NOVEMBER))
    assert whole.reviews == 7 and whole.approved == 3
    assert whole.approval_latency_median_h == 4.0  # median of 2, 4 and 24 h
    assert whole.approval_latency_p90_h == 24.0  # nearest rank: ceil(0.9 x 3) = 3rd
    assert whole.average_fill_pct == 92.0  # (360 + 100) / 5 containers
    assert whole.cartons_ordered == 68_000 and whole.containers_ordered == 4
    assert whole.auto_approved_pct == 16.7  # 1 of 6 decided
    assert whole.on_time_pct == 66.7 and whole.late_shipments == 2


def test_percentile_is_the_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(v) for v in range(1, 11)], 0.9) == 9.0
    assert percentile([float(v) for v in range(1, 11)], 0.5) == 5.0


def test_a_period_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="ends"):
        Period(date(2026, 11, 2), date(2026, 11, 2))
    assert Period.last_days(28, date(2026, 11, 30)) == Period(date(2026, 11, 3), date(2026, 12, 1))


# --- forecast error, stock over time and ERP health ---------------------------------------


def nov(day: int) -> int:
    return date(2026, 11, day).toordinal()


PRODUCTS = [
    # A: the ERP reports consumption, 100 a week on average in the 4 weeks after Nov 2.
    ProductStockFact(1, "A", 100.0, [], [[nov(w), q, None] for w, q in
                                          ((2, 100), (9, 120), (16, 80), (23, 100))]),
    # B: no reports; counted at each sync, 400 delivered on Nov 20.
    ProductStockFact(1, "B", 80.0, [[nov(2), 500], [nov(9), 400], [nov(16), 0],
                                    [nov(23), 300], [nov(30), 150]], []),
    # F: sells 10 a week, max cover 10 weeks: 100 on hand is the limit.
    ProductStockFact(1, "F", 10.0, [[date(2026, 10, 30).toordinal(), 0], [nov(5), 150],
                                    [nov(12), 120], [nov(19), 0]], []),
    ProductStockFact(1, "G", 0.0, [[nov(5), 0]], []),  # does not sell: never out, never excess
    ProductStockFact(2, "E", 50.0, [[nov(10), int(DEFAULT_MAX_COVER_WEEKS * 50) + 1]],
                     [[nov(9), 60, None], [nov(16), 60, None]]),
]  # fmt: skip
RECEIPTS = [
    ReceiptFact(1, "B", date(2026, 11, 20), 400),
    ReceiptFact(2, "B", date(2026, 11, 20), 9),
]
FORECASTS = [
    ForecastFact(1, date(2026, 11, 2), "A", 110.0),  # +10 against 100
    ForecastFact(1, date(2026, 11, 2), "B", 80.0),  # against 350 in 21 days: 116.67 a week
    ForecastFact(1, date(2026, 11, 27), "A", 90.0),  # no week after Nov 27 reported yet
    ForecastFact(1, date(2026, 11, 2), "D", 5.0),  # a product no longer in the ERP
    ForecastFact(2, date(2026, 11, 9), "E", 40.0),  # -20 against 60
]
SYNCS = [
    SyncFact(1, at(30, month=10), True, 1, 99.0),  # October
    SyncFact(1, at(2), True, 1, 1.0),
    SyncFact(1, at(9), False, 1),
    SyncFact(1, at(9, 10), True, 2, 3.0),
    SyncFact(1, at(16), True, 1, 2.0),
    SyncFact(1, at(23), False, 1),
    SyncFact(1, at(23, 10), False, 2),
    SyncFact(1, at(23, 11), True, 3, 10.0),
    SyncFact(2, at(5), True, 1, 4.0),
]
IN_NOVEMBER = [f for f in SYNCS if NOVEMBER.holds(f.at.date())]


def test_consumption_observed_after_a_forecast() -> None:
    a, b, f = PRODUCTS[0], PRODUCTS[1], PRODUCTS[2]
    four_weeks = (date(2026, 11, 2), date(2026, 11, 30))
    assert observed_weekly(a, [], *four_weeks) == 100.0  # 400 in the 4 reported weeks
    # B: 500 -> 400 (100 in 7 days); 400 -> 0 ended empty, left out; 0 + 400 received
    # -> 300 (100); 300 -> 150 (150): 350 in 21 days.
    received = [r for r in RECEIPTS if r.customer_id == 1]
    assert observed_weekly(b, received, *four_weeks) == pytest.approx(350 * 7 / 21)
    assert observed_weekly(a, [], date(2026, 11, 27), date(2026, 12, 25)) is None
    assert observed_weekly(f, [], date(2026, 11, 12), date(2026, 11, 19)) is None  # ended empty


def test_forecast_error_per_customer_and_in_total() -> None:
    checks = forecast_checks(FORECASTS, PRODUCTS, RECEIPTS)
    assert [(c.customer_id, c.forecast) for c in checks] == [(1, 110.0), (1, 80.0), (2, 40.0)]
    rows = insights([ACME, BOLT], NOVEMBER, REVIEWS, ORDERS, STOCK, checks)
    acme, bolt = rows
    # Acme: |+10| + |80 - 116.67| = 46.67 over 216.67 consumed; signed -26.67.
    assert (acme.forecasts_checked, acme.forecast_mae_pct, acme.forecast_bias_pct) == (
        2, 21.5, -12.3)  # fmt: skip
    assert (bolt.forecasts_checked, bolt.forecast_mae_pct, bolt.forecast_bias_pct) == (
        1, 33.3, -33.3)  # fmt: skip
    whole = totals(rows, [], checks)
    # 66.67 over 276.67 consumed; signed -46.67.
    assert (whole.forecasts_checked, whole.forecast_mae_pct, whole.forecast_bias_pct) == (
        3, 24.1, -16.9)  # fmt: skip
    assert accuracy([]) == (0, None, None)


def test_stock_outs_and_excess_over_the_period() -> None:
    found = stock_checks(PRODUCTS, {1: 10.0}, NOVEMBER)
    assert sorted((c.customer_id, c.product_code, c.day.day, c.stocked_out) for c in found) == [
        (1, "B", 16, True),
        (1, "F", 5, False),  # 150 > 10 weeks x 10
        (1, "F", 12, False),
        (1, "F", 19, True),  # F's October stock-out is outside the period
        (2, "E", 10, False),  # over the default maximum cover
    ]
    acme, bolt = insights([ACME, BOLT], NOVEMBER, [], [], [], stock_over_time=found)
    assert (acme.stocked_out_in_period, acme.excess_in_period) == (2, 1)  # B, F; F
    assert (bolt.stocked_out_in_period, bolt.excess_in_period) == (0, 1)


def test_erp_health_from_the_syncs() -> None:
    acme, bolt = insights([ACME, BOLT], NOVEMBER, [], [], [], syncs=SYNCS)
    # Acme in November: 4 done, 3 failed attempts; 2 of the 4 needed a retry;
    # durations 1, 3, 2, 10 s: median 2.5, nearest-rank p90 the 4th.
    assert (acme.syncs, acme.sync_failures, acme.syncs_retried) == (4, 3, 2)
    assert (acme.sync_error_pct, acme.sync_retried_pct) == (42.9, 50.0)
    assert (acme.sync_median_s, acme.sync_p90_s) == (2.5, 10.0)
    assert (bolt.syncs, bolt.sync_error_pct, bolt.sync_median_s) == (1, 0.0, 4.0)
    whole = totals([acme, bolt], [], (), IN_NOVEMBER)
    assert (whole.syncs, whole.sync_failures, whole.sync_error_pct) == (5, 3, 37.5)
    assert (whole.sync_retried_pct, whole.sync_median_s, whole.sync_p90_s) == (40.0, 3.0, 10.0)


def test_the_trend_week_by_week() -> None:
    checks = forecast_checks(FORECASTS, PRODUCTS, RECEIPTS)
    weeks = trend(NOVEMBER, checks, stock_checks(PRODUCTS, {1: 10.0}, NOVEMBER), IN_NOVEMBER)
    # November 2026 begins on a Sunday: its first week is the one of Monday, October 26.
    assert [w.week.isoformat() for w in weeks] == [
        "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"
    ]  # fmt: skip
    by_week = {w.week.day: w for w in weeks}
    assert (by_week[2].forecasts_checked, by_week[2].forecast_mae_pct) == (2, 21.5)
    assert (by_week[9].forecasts_checked, by_week[9].forecast_bias_pct) == (1, -33.3)
    assert by_week[16].forecasts_checked == 0 and by_week[16].forecast_mae_pct is None
    assert [(w.stocked_out, w.excess) for w in weeks] == [(0, 0), (0, 1), (0, 2), (2, 0), (0, 0),
                                                         (0, 0)]  # fmt: skip
    assert [(w.syncs, w.sync_failures) for w in weeks] == [(0, 0), (2, 0), (1, 1), (1, 0), (1, 2),
                                                         (0, 0)]  # fmt: skip
