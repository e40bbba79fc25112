"""A proposal waiting for an approver, as the portal shows it (from its audit entry: the
cycle audits each proposal, and a new version replaces it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from workflows.contract.cycle import Authority

PROPOSED = "recommendation.proposed"


@dataclass(frozen=True)
class WaitingProposal:
    version: int
    actor: str
    at: datetime
    containers: list[int]
    edits: dict[str, int]
    value: Decimal | None

    @property
    def proposer(self) -> str:
        return self.actor.removeprefix("user:")

    def approvable_by(self, authority: Authority) -> bool:
        """Whether this caller's approval of it would be taken (the cycle decides again)."""
        return authority.covers(self.value)


async def waiting_proposal(
    session: AsyncSession, customer_id: int, version: int
) -> WaitingProposal | None:
    entry = await audit.latest(session, customer_id, PROPOSED, version)
    if entry is None:
        return None
    details = entry.details
    value = details.get("value")
    return WaitingProposal(
        version=version,
        actor=entry.actor,
        at=entry.at,
        containers=[int(i) for i in details.get("containers", [])],
        edits={str(k): int(v) for k, v in details.get("edits", {}).items()},
        value=None if value is None else Decimal(value),
    )
