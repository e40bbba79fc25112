"""The supplier's pages in the ops console: figures per customer over a period
(`/ops/insights`) and what needs attention now across customers (`/ops/exceptions`), each
with its CSV and XLSX export."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from api.auth.deps import OpsDep
from api.deps import SessionDep, SettingsDep
from core.errors import InvalidInput
from core.temporal import temporal_ui_url
from portal.charts import bar_chart
from portal.render import page_context, render
from services import exceptions as exceptions_service
from services import insights as insights_service
from services.tables import attachment, encode

router = APIRouter(include_in_schema=False)

DEFAULT_DAYS = 28
MAX_DAYS = 3 * 366
CHART_BARS = 15
Extension = Annotated[str, Path(pattern="^(csv|xlsx)$")]


def _period(start: date | None, end: date | None) -> insights_service.Period:
    """[start, end] as the page shows it (both days included); default the last 28 days."""
    last = end or datetime.now(UTC).date()
    if start is None:
        return insights_service.Period.last_days(DEFAULT_DAYS, last)
    if start > last:
        raise InvalidInput(f"start ({start}) is after end ({last})", field="start")
    period = insights_service.Period(start, last + timedelta(days=1))
    if period.days > MAX_DAYS:
        raise InvalidInput(f"a period of at most {MAX_DAYS} days, please", field="start")
    return period


Start = Annotated[date | None, Query(description="First day (YYYY-MM-DD)")]
End = Annotated[date | None, Query(description="Last day, included (YYYY-MM-DD)")]


@router.get("/ops/insights")
async def insights_page(
    request: Request,
    principal: OpsDep,
    session: SessionDep,
    settings: SettingsDep,
    start: Start = None,
    end: End = None,
) -> Response:
    period = _period(start, end)
    view = await insights_service.load_insights(session, period)
    busiest = sorted(view.rows, key=lambda k: -k.cartons_ordered)[:CHART_BARS]
    delivering = sorted((k for k in view.rows if k.on_time_pct is not None),
                        key=lambda k: k.on_time_pct or 0)[:CHART_BARS]  # fmt: skip
    least_accurate = sorted((k for k in view.rows if k.forecast_mae_pct is not None),
                            key=lambda k: -(k.forecast_mae_pct or 0))[:CHART_BARS]  # fmt: skip
    charts = {
        "cartons": bar_chart(
            "Cartons ordered per customer",
            [(k.customer.name, k.cartons_ordered) for k in busiest if k.cartons_ordered],
        ),
        "on_time": bar_chart(
            "Deliveries on time per customer (least first)",
            [(k.customer.name, k.on_time_pct or 0.0) for k in delivering],
            "%",
        ),
        "forecast": bar_chart(
            "Forecast error (MAE) per customer (largest first)",
            [(k.customer.name, k.forecast_mae_pct or 0.0) for k in least_accurate],
            "%",
        ),
    }
    query = f"start={period.start.isoformat()}&end={period.last.isoformat()}"
    return render(
        request,
        "insights.html",
        page_context(
            principal,
            settings,
            view=view,
            charts=charts,
            query=query,
            nav="ops",
        ),
    )


@router.get("/ops/insights.{extension}")
async def insights_export(
    principal: OpsDep,
    session: SessionDep,
    extension: Extension,
    start: Start = None,
    end: End = None,
) -> Response:
    period = _period(start, end)
    view = await insights_service.load_insights(session, period)
    rows = insights_service.export_rows(view)
    name = f"restock-insights-{period.start.isoformat()}-to-{period.last.isoformat()}"
    return Response(encode(rows, extension, "Insights"), headers=attachment(name, extension))


async def _exceptions(
    session: SessionDep, settings: SettingsDep
) -> list[exceptions_service.ExceptionItem]:
    return await exceptions_service.load_exceptions(
        session,
        datetime.now(UTC),
        lambda workflow_id, run_id: temporal_ui_url(settings, workflow_id, run_id),
    )


@router.get("/ops/exceptions")
async def exceptions_page(
    request: Request, principal: OpsDep, session: SessionDep, settings: SettingsDep
) -> Response:
    items = await _exceptions(session, settings)
    return render(
        request,
        "exceptions.html",
        page_context(principal, settings, items=items, nav="ops"),
    )


@router.get("/ops/exceptions.{extension}")
async def exceptions_export(
    principal: OpsDep, session: SessionDep, settings: SettingsDep, extension: Extension
) -> Response:
    rows = exceptions_service.export_rows(await _exceptions(session, settings), settings.public_url)
    today = datetime.now(UTC).date().isoformat()
    name = f"restock-exceptions-{today}"
    return Response(encode(rows, extension, "Exceptions"), headers=attachment(name, extension))
