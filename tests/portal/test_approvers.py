"""Who may approve, in the browser: a buyer above his approval limit proposes, sees "waiting
for an approver", and an approver lands it once; a viewer reads and decides nothing."""

from __future__ import annotations

from decimal import Decimal

from playwright.async_api import expect

from services.accounts import ApprovalGrant, create_user, set_approval_grant
from store import accounts as users_repo
from store.db import unit_of_work
from store.models import CustomerRole, Role
from tests.portal.conftest import PASSWORD, ContextFactory, LiveStack, Shot, Tenant, login
from workflows.contract.cycle import CycleStatus


async def _grant(live: LiveStack, username: str, grant: ApprovalGrant) -> None:
    async with unit_of_work(live.sessions) as session:
        user = await users_repo.find_user(session, username)
        assert user is not None
        await set_approval_grant(session, user, grant, actor="test")


async def _user(live: LiveStack, tenant: Tenant, name: str, grant: ApprovalGrant) -> str:
    username = f"{name}-{tenant.erp_code.lower()}"
    async with unit_of_work(live.sessions) as session:
        await create_user(
            session,
            username=username,
            password=PASSWORD,
            role=Role.CUSTOMER,
            customer_id=tenant.customer_id,
            actor="test",
            approval_grant=grant,
        )
    return username


async def test_a_buyer_above_his_limit_proposes_and_an_approver_lands_it_once(
    live: LiveStack, new_context: ContextFactory, shot: Shot
) -> None:
    tenant = await live.new_tenant("Limited Buyer Foods")
    limit = Decimal("1.00")
    await _grant(
        live, tenant.username, ApprovalGrant(customer_role=CustomerRole.BUYER, approval_limit=limit)
    )
    approver = await _user(live, tenant, "approver", ApprovalGrant(email="approver@example.com"))
    viewer = await _user(live, tenant, "viewer", ApprovalGrant(customer_role=CustomerRole.VIEWER))
    state = await live.awaiting_approval(tenant)
    rec = state.recommendation
    assert rec is not None and all((c.value or 0) > limit for c in rec.containers)
    page_url = f"/customers/{tenant.customer_id}/recommendation"

    buyer = await (await new_context()).new_page()
    await login(buyer, tenant.username)
    await buyer.goto(page_url)
    await expect(buyer.locator("[data-testid=approval-limit]")).to_contain_text(
        "Your approval limit: €1.00"
    )
    await expect(buyer.locator("[data-testid=paste-box]")).to_have_count(1)  # buyers edit
    await expect(buyer.locator("[data-testid=open-reject]")).to_have_count(0)  # not reject
    await buyer.locator("[data-testid=approve]").click()
    await buyer.locator("[data-testid=confirm-approve]").click()
    error = buyer.locator("[data-testid=action-error]")
    await expect(error).to_contain_text("above your approval limit of 1.00 EUR")
    await expect(buyer.locator("[data-testid=confirm-approve]")).to_be_hidden()
    await buyer.locator("[data-testid=propose]").click()
    await expect(buyer.locator("[data-testid=decision-note]")).to_contain_text(
        "Proposed: waiting for an approver"
    )
    await buyer.reload()
    proposal = buyer.locator("[data-testid=proposal]")
    await expect(proposal).to_contain_text(f"Waiting for an approver. {tenant.username} proposed")
    await expect(proposal.locator("[data-testid=approve-proposal]")).to_have_count(0)
    await shot(buyer, "recommendation-waiting-for-an-approver")
    assert await live.submissions(tenant.erp_code) == []
    told = await live.cycles.wait_notified("Waiting for an approver")
    assert told.to == ["approver@example.com"]

    reader = await (await new_context()).new_page()
    await login(reader, viewer)
    await reader.goto(page_url)
    await expect(reader.locator("[data-testid=read-only]")).to_contain_text(
        "deciding on it needs the buyer or approver role"
    )
    await expect(reader.locator("[data-testid=proposal]")).to_be_visible()
    for control in ("approve", "qty", "approve-proposal", "reject"):
        await expect(reader.locator(f"[data-testid={control}]")).to_have_count(0)

    deciding = await (await new_context()).new_page()
    await login(deciding, approver)
    await deciding.goto(page_url)
    await deciding.locator("[data-testid=approve-proposal]").click()
    await expect(deciding.locator("[data-testid=decision-note]")).to_contain_text(
        "Proposal approved"
    )
    await expect(deciding.locator("[data-testid=order]")).to_have_count(len(rec.containers))
    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    assert submitted.decision is not None
    assert submitted.decision.actor == f"user:{approver}"
    assert submitted.decision.reason == f"proposed by user:{tenant.username}"
    assert len(await live.submissions(tenant.erp_code)) == len(rec.containers)
