"""The banner a customer's pages show while its cycle is in trouble, in plain words."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.erp_messages import explain_erp_failure
from store import cycles as cycles_repo
from workflows.contract.cycle import CycleStatus


class Banner(BaseModel):
    title: str
    text: str
    detail: str | None = None


async def cycle_banner(session: AsyncSession, customer_id: int) -> Banner | None:
    """None while all is well. A refused submission and a review that could not finish
    say what happened and what happens next; the raw reason goes along for ops."""
    cycle = await cycles_repo.latest_cycle(session, customer_id)
    if cycle is None:
        return None
    if cycle.status == CycleStatus.SUBMISSION_FAILED.value:
        return Banner(
            title="The ERP did not take part of your approved order",
            text=explain_erp_failure(cycle.detail or "") or "",
            detail=cycle.detail,
        )
    if cycle.status == CycleStatus.FAILED.value:
        return Banner(
            title="The last review could not finish",
            text="Restock could not plan from the supplier's ERP this time. Our operations "
            "team has been told; the next review tries again, and your open orders are not "
            "affected.",
            detail=cycle.detail,
        )
    return None
