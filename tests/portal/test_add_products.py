"""Adding products the plan does not suggest, in the browser: one found by searching its
name, one pasted from a spreadsheet; both reviewed and sent to the ERP in the container
chosen."""

from __future__ import annotations

from playwright.async_api import Page, expect

from planning.packing import effective_moq
from tests.portal.conftest import LiveStack, Shot, login
from workflows.contract.cycle import CycleStatus, LineView


def smallest(line: LineView) -> int:
    return effective_moq(line.pack_size, line.moq)


async def _snooze(page: Page, customer_id: int, code: str) -> None:
    await page.goto(f"/customers/{customer_id}/products/{code}")
    await page.locator("[data-testid=snooze-reviews]").fill("1")
    await page.locator("[data-testid=snooze-product]").click()
    await expect(page.locator("[data-testid=snooze-note]")).to_contain_text("Snoozed until")


async def test_a_product_is_added_by_search_and_another_by_pasted_lines(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    # What falls short ships (after two products are snoozed, the re-plan may otherwise wait
    # for a fuller container and order nothing).
    tenant = await live.new_tenant("Adding Foods")
    first = await live.awaiting_approval(tenant)
    assert first.recommendation is not None
    lines = [ln for c in first.recommendation.containers for ln in c.lines]
    searched, pasted = (
        lines[0],
        next(ln for ln in lines if ln.product_code != lines[0].product_code),
    )
    # Snoozed and re-planned: the waiting version orders neither.
    await login(page, tenant.username)
    await _snooze(page, tenant.customer_id, searched.product_code)
    await _snooze(page, tenant.customer_id, pasted.product_code)
    await page.locator("[data-testid=replan]").click()
    await expect(page.locator("[data-testid=snooze-note]")).to_contain_text("Re-planned")
    state = await live.wait_for(tenant, CycleStatus.AWAITING_APPROVAL)
    rec = state.recommendation
    assert rec is not None and rec.version == first.recommendation.version + 1
    ordered = {ln.product_code for c in rec.containers for ln in c.lines}
    assert not {searched.product_code, pasted.product_code} & ordered
    container = rec.containers[0]
    room = max(container.lines, key=lambda ln: ln.quantity)
    assert room.quantity >= smallest(searched) + smallest(pasted)

    await page.goto(f"/customers/{tenant.customer_id}/recommendation")
    await page.locator("[data-testid=open-add]").click()
    word = max(searched.name.split(), key=len)  # a word of its name, not its code
    await page.locator("[data-testid=add-search]").fill(word)
    choice = page.locator(f"[data-testid=add-choices] option[value='{searched.product_code}']")
    await expect(choice).to_have_count(1)
    await page.locator("[data-testid=add-search]").fill(searched.product_code)
    await expect(page.locator("[data-testid=add-hint]")).to_contain_text(searched.name)
    # A quantity the planner refuses is named, and nothing is added.
    if searched.pack_size > 1:
        await page.locator("[data-testid=add-qty]").fill(str(smallest(searched) + 1))
        await page.locator("[data-testid=add-product]").click()
        await expect(page.locator("[data-testid=add-error]")).to_contain_text(
            f"edits.{searched.product_code}"
        )
    await page.locator("[data-testid=add-qty]").fill(str(smallest(searched)))
    async with page.expect_navigation():
        await page.locator("[data-testid=add-product]").click()
    added = page.locator("[data-testid=added-lines] tr[data-testid=added-line]")
    await expect(added).to_have_count(1)
    await expect(added.first.locator("[data-testid=qty]")).to_have_value(str(smallest(searched)))

    await page.locator("[data-testid=open-paste]").click()
    await page.locator("[data-testid=paste-text]").fill(
        f"{pasted.product_code}\t{smallest(pasted)}\n{room.product_code}\t0\n"
    )
    async with page.expect_navigation():
        await page.locator("[data-testid=paste-apply]").click()
    await expect(added).to_have_count(2)
    await shot(page, "recommendation-added-products")

    # Only the first container: the added products go into it, in place of the line lowered.
    for box in await page.locator("[data-testid=choose-container]").all():
        if await box.get_attribute("value") != str(container.index):
            await box.uncheck()
    await page.locator("[data-testid=approve]").click()
    changes = page.locator("[data-testid=review-change]")
    await expect(changes).to_have_count(3)
    await expect(page.locator("[data-testid=review-changes]")).to_contain_text(
        f"{searched.product_code} {searched.name}: 0 \u2192 {smallest(searched):,} cartons"
    )
    await page.locator("[data-testid=confirm-approve]").click()
    await expect(page.locator("[data-testid=decision-note]")).to_contain_text("Approved")
    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED, CycleStatus.TRACKING)
    [order] = submitted.orders
    assert order.erp_order_number is not None
    at_erp = await live.erp_order(tenant.erp_code, order.erp_order_number)
    quantities = {line["ITEM_CODE"]: line["ORDER_QTY"] for line in at_erp["LINES"]}
    assert quantities[searched.product_code] == smallest(searched)
    assert quantities[pasted.product_code] == smallest(pasted)
    assert room.product_code not in quantities
