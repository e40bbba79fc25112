"""The data-quality report of a customer's latest ERP sync, for the API and the ops page."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from erp.models import DataQualityReport
from store import snapshots


class LatestReport(BaseModel):
    synced_at: datetime
    as_of: date
    report: DataQualityReport


async def latest_report(session: AsyncSession, customer_id: int) -> LatestReport | None:
    """None when the customer was never synced."""
    snapshot = await snapshots.get_snapshot(session, customer_id)
    if snapshot is None:
        return None
    return LatestReport(
        synced_at=snapshot.synced_at,
        as_of=snapshot.as_of,
        report=DataQualityReport.model_validate(snapshot.data_quality),
    )
