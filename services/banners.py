"""The banner a customer's pages show while its cycle is in trouble, in plain words."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from planning.models import CreditStatus
from services.erp_messages import explain_erp_failure
from services.profiles import profile_of
from store import cycles as cycles_repo
from store import snapshots
from workflows.contract.cycle import CycleStatus


class Banner(BaseModel):
    title: str
    text: str
    detail: str | None = None


async def cycle_banner(session: AsyncSession, customer_id: int) -> Banner | None:
    """None while all is well. A refused submission and a review that could not finish
    say what happened and what happens next; the raw reason goes along for ops. Else a
    credit hold at the latest sync, which refuses approvals until it is released."""
    cycle = await cycles_repo.latest_cycle(session, customer_id)
    if cycle is None:
        return await credit_banner(session, customer_id)
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
    return await credit_banner(session, customer_id)


async def credit_banner(session: AsyncSession, customer_id: int) -> Banner | None:
    snapshot = await snapshots.get_snapshot(session, customer_id)
    profile = profile_of(snapshot)
    if snapshot is None or profile is None or profile.credit_status is not CreditStatus.HOLD:
        return None
    return Banner(
        title="Your credit is on hold with the supplier",
        text=f"The supplier's ERP had your account's credit on hold when Restock last read it "
        f"({snapshot.synced_at:%Y-%m-%d %H:%M} UTC), so approvals are refused and nothing is "
        "ordered. Please contact the supplier's accounts team; once they release it, the "
        "next review (or Refresh) reads it again.",
    )
