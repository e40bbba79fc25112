"""The customer's master data as the latest sync stored it (`Snapshot.profile`), read back
into the model it was written from, so its meaning (credit on hold, credit left, currency)
is defined once, in `planning.models.CustomerProfile`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from planning.models import CustomerProfile
from store import snapshots
from store.models import Snapshot


def profile_of(snapshot: Snapshot | None) -> CustomerProfile | None:
    return None if snapshot is None else CustomerProfile.model_validate(snapshot.profile)


async def latest_profile(session: AsyncSession, customer_id: int) -> CustomerProfile | None:
    return profile_of(await snapshots.get_snapshot(session, customer_id))
