"""The ops console in the browser: unblock a rejected submission, edit a customer's settings."""

from __future__ import annotations

from playwright.async_api import Locator, Page, expect

from services.cycle_control import cycle_workflow_id
from store import customer_settings as settings_repo
from tests.portal.conftest import (
    ContextFactory,
    LiveStack,
    Shot,
    Tenant,
    approve_over_api,
    eventually,
    login,
    needs_pages,
)
from workflows.contract.cycle import CycleStatus

pytestmark = needs_pages("ops.html", "settings.html")


def cycle_row(page: Page, tenant: Tenant) -> Locator:
    return page.locator(f"tr[data-testid=cycle-row][data-customer-id='{tenant.customer_id}']")


async def test_ops_retry_after_a_business_rejection_lands_each_order_once(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Credit Limit Traders")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    with live.erp_sim.faults(
        endpoints=["submit"], reject_code="E_CREDIT_LIMIT", reject_message="credit limit exceeded"
    ):
        await approve_over_api(live, tenant, state.recommendation.version)
        failed = await live.wait_for(tenant, CycleStatus.SUBMISSION_FAILED)
    assert await live.submissions(tenant.erp_code) == []
    containers = len(failed.orders)
    assert containers == len(state.recommendation.containers)

    await login(page, live.ops_username)
    assert page.url.endswith("/ops"), page.url
    row = cycle_row(page, tenant)
    await expect(row).to_have_count(1)
    await expect(row).to_have_attribute("data-status", "submission_failed")
    link = row.locator("[data-testid=temporal-link]")
    href = await link.get_attribute("href") or ""
    assert href.startswith(live.settings.temporal_ui_url), href
    assert cycle_workflow_id(tenant.customer_id) in href, href
    await expect(row.locator("[data-testid=cancel]")).to_be_visible()
    await shot(page, "ops-submission-failed")

    # Other customers' rows carry no retry button.
    for other in (live.a, live.b):
        await expect(cycle_row(page, other).locator("[data-testid=retry]")).to_have_count(0)

    await row.locator("[data-testid=retry]").click()
    await expect(page.locator("[data-testid=action-error]")).to_be_hidden()
    polls, reloads = 0, 0

    async def row_submitted() -> bool:
        """The row's status, as the page shows it; reloaded every ~5 s if it does not move
        by itself (the report tells how many reloads it took: 0 means live)."""
        nonlocal polls, reloads
        if await cycle_row(page, tenant).get_attribute("data-status") == "submitted":
            return True
        polls += 1
        if polls % 25 == 0:
            reloads += 1
            await page.reload()
        return False

    await eventually(row_submitted, "the ops row reaches submitted after retry")
    print("ops page reloads before the row showed submitted:", reloads)
    await expect(cycle_row(page, tenant).locator("[data-testid=retry]")).to_have_count(0)
    await shot(page, "ops-after-retry")

    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    submissions = await live.submissions(tenant.erp_code)
    assert len(submissions) == containers == len(submitted.orders), submissions
    assert [s["requests"] for s in submissions] == [1] * containers, submissions
    assert {o.erp_order_number for o in submitted.orders} == {
        s["order_number"] for s in submissions
    }


async def test_ops_cancel_after_a_business_rejection_ends_the_cycle_without_orders(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Credit Hold Traders")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    with live.erp_sim.faults(endpoints=["submit"], reject_code="E_CREDIT_HOLD"):
        await approve_over_api(live, tenant, state.recommendation.version)
        await live.wait_for(tenant, CycleStatus.SUBMISSION_FAILED)

    await login(page, live.ops_username)
    row = cycle_row(page, tenant)
    await expect(row).to_have_attribute("data-status", "submission_failed")
    await row.locator("[data-testid=cancel]").click()
    await expect(page.locator("[data-testid=action-error]")).to_be_hidden()
    cancelled = await live.wait_for(tenant, CycleStatus.CANCELLED)
    assert {o.status for o in cancelled.orders} == {"cancelled"}, cancelled.orders

    async def row_cancelled() -> bool:
        if await cycle_row(page, tenant).get_attribute("data-status") == "cancelled":
            return True
        await page.reload()
        return False

    await eventually(row_cancelled, "the ops row shows the cycle cancelled")
    await expect(cycle_row(page, tenant).locator("[data-testid=retry]")).to_have_count(0)
    await expect(cycle_row(page, tenant).locator("[data-testid=cancel]")).to_have_count(0)
    assert await live.submissions(tenant.erp_code) == []


async def test_ops_edits_settings_with_field_errors(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Settings Co")
    await login(page, live.ops_username)
    await page.goto(f"/ops/customers/{tenant.customer_id}/settings")
    form = page.locator("[data-testid=settings-form]")
    await expect(form).to_be_visible()
    target = form.locator("[name=target_soh_weeks]")
    lead = form.locator("[name=lead_time_weeks]")
    assert float(await target.input_value()) == 14.0
    assert int(await lead.input_value()) == 6
    await shot(page, "settings")

    # An out-of-range value: the error sits by that field, nothing is saved.
    await lead.fill("99")
    await form.locator("[data-testid=save-settings]").click()
    lead_error = lead.locator("xpath=..").locator("[data-testid=field-error]")
    await expect(lead_error).to_be_visible()
    assert (await lead_error.inner_text()).strip()
    visible_errors = form.locator("[data-testid=field-error]:visible")
    await expect(visible_errors).to_have_count(1)
    await expect(page.locator("[data-testid=saved]")).to_be_hidden()
    await shot(page, "settings-field-error")
    async with live.sessions() as session:
        row = await settings_repo.get_or_create(session, tenant.customer_id)
        assert row.lead_time_weeks == 6

    # Fixed, and another field changed: saved, and stored.
    await lead.fill("8")
    await target.fill("16")
    await form.locator("[data-testid=save-settings]").click()
    await expect(page.locator("[data-testid=saved]")).to_be_visible()
    await expect(lead_error).to_be_hidden()
    async with live.sessions() as session:
        row = await settings_repo.get_or_create(session, tenant.customer_id)
        assert (row.lead_time_weeks, row.target_soh_weeks) == (8, 16.0)
    await page.reload()
    await expect(form.locator("[name=lead_time_weeks]")).to_have_value("8")


async def test_settings_saved_then_replanned_from_the_console_the_buyer_is_told(
    live: LiveStack, page: Page, new_context: ContextFactory, shot: Shot
) -> None:
    """Ops changes a waiting customer's target, saves, re-plans from the settings page; the
    buyer's open recommendation says a new version replaces it and stops taking decisions."""
    tenant = await live.new_tenant("Replan Foods")
    first = await live.awaiting_approval(tenant)
    assert first.recommendation is not None
    buyer = await (await new_context()).new_page()
    await login(buyer, tenant.username)
    await buyer.goto(f"/customers/{tenant.customer_id}/recommendation")
    await expect(buyer.locator("[data-testid=approve]")).to_be_enabled()

    await login(page, live.ops_username)
    await page.goto("/ops?show=waiting")
    await expect(cycle_row(page, tenant).locator("[data-testid=review-now]")).to_have_text(
        "Re-plan now"
    )
    await page.goto(f"/ops/customers/{tenant.customer_id}/settings")
    form = page.locator("[data-testid=settings-form]")
    await form.locator("[name=target_soh_weeks]").fill("20")
    await form.locator("[data-testid=save-settings]").click()
    await expect(page.locator("[data-testid=saved]")).to_be_visible()
    await page.locator("[data-testid=replan]").click()
    await expect(page.locator("[data-testid=replanned]")).to_contain_text("re-planned")
    await shot(page, "settings-replanned")

    async def new_version() -> bool:
        state = await live.wait_for(tenant, CycleStatus.AWAITING_APPROVAL)
        return (
            state.recommendation is not None
            and state.recommendation.version > first.recommendation.version  # type: ignore[union-attr]
        )

    await eventually(new_version, "the cycle waits with a new version")
    note = buyer.locator("[data-testid=decision-note]")
    await expect(note).to_contain_text("A new version", timeout=20_000)
    await expect(buyer.locator("[data-testid=approve]")).to_be_disabled()
    await shot(buyer, "recommendation-replaced-by-new-version")
    await buyer.locator("[data-testid=show-new-version]").click()
    await expect(buyer.locator("p.lead")).to_contain_text(f"v{first.recommendation.version + 1} ")
    await expect(buyer.locator("[data-testid=approve]")).to_be_enabled()


async def test_ops_reads_the_data_quality_report_and_the_audit_log(
    live: LiveStack, page: Page, new_context: ContextFactory, shot: Shot
) -> None:
    tenant = await live.new_tenant("Audit Foods")
    await live.awaiting_approval(tenant)
    await login(page, live.ops_username)
    await cycle_row(page, tenant).locator("[data-testid=data-quality-link]").click()
    report = page.locator("[data-testid=data-quality-report]")
    await expect(report).to_be_visible()
    await expect(report).to_contain_text("Latest sync")
    await shot(page, "ops-data-quality")

    await page.goto("/ops")
    await cycle_row(page, tenant).locator("[data-testid=audit-link]").click()
    rows = page.locator("[data-testid=audit-row]")
    await expect(rows.first).to_be_visible()
    actions = await rows.evaluate_all("rs => rs.map(r => r.dataset.action)")
    assert "cycle.awaiting_approval" in actions, actions
    customers = await rows.locator("td:nth-child(3)").all_inner_texts()
    assert set(customers) == {str(tenant.customer_id)}, customers
    await shot(page, "ops-audit-log")

    buyer = await (await new_context()).new_page()
    await login(buyer, tenant.username)
    for path in ("/ops/audit", f"/ops/customers/{tenant.customer_id}/data-quality"):
        response = await buyer.goto(path)
        assert response is not None and response.status in (403, 404), (path, response)
        await expect(buyer.locator("[data-testid=audit-row]")).to_have_count(0)
