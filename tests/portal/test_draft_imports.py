"""Quantities in bulk, in the browser: pasted from a spreadsheet into the recommendation, and
an earlier order's quantities ordered again from its page."""

from __future__ import annotations

from playwright.async_api import Page, expect

from planning.packing import effective_moq
from services.cycle_control import cycle_handle
from tests.portal.conftest import LiveStack, Shot, approve_over_api, login
from workflows.contract.cycle import CycleStatus


async def test_pasted_quantities_show_on_the_page_and_a_wrong_line_is_named(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Pasting Foods")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    line = state.recommendation.containers[0].lines[0]
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/recommendation")
    await page.locator("[data-testid=open-paste]").click()
    box = page.locator("[data-testid=paste-text]")
    await box.fill(f"{line.product_code}\t0\nNOT-A-LINE\t12\n")
    await page.locator("[data-testid=paste-apply]").click()
    problems = page.locator("[data-testid=paste-problems] li")
    await expect(problems).to_have_count(1)
    await expect(problems.first).to_contain_text(
        "line 2: NOT-A-LINE is not a product of this customer"
    )
    await box.fill(f"Code\tQuantity\n{line.product_code}\t0\n")
    async with page.expect_navigation():
        await page.locator("[data-testid=paste-apply]").click()
    row = page.locator(f"tr[data-testid=line][data-code='{line.product_code}']")
    await expect(row.locator("[data-testid=qty]")).to_have_value("0")
    await shot(page, "recommendation-pasted")

    # The same from a CSV file, as Excel saves it: quoted, a grouped thousand.
    quantity = line.quantity + effective_moq(line.pack_size, line.moq)
    await page.locator("[data-testid=open-paste]").click()
    csv = f'Code,Quantity\r\n"{line.product_code}","{quantity:,}"\r\n'.encode()
    async with page.expect_navigation():
        await page.locator("[data-testid=csv-file]").set_input_files(
            files=[{"name": "order.csv", "mimeType": "text/csv", "buffer": csv}]
        )
    await expect(row.locator("[data-testid=qty]")).to_have_value(str(quantity))


async def test_an_earlier_order_is_ordered_again_from_its_page(live: LiveStack, page: Page) -> None:
    tenant = await live.new_tenant("Repeat Order Foods", monthly_cartons=120_000)
    first = await live.awaiting_approval(tenant)
    assert first.recommendation is not None
    # Only the first container is ordered: the next review still needs the rest.
    await approve_over_api(
        live,
        tenant,
        first.recommendation.version,
        containers=[first.recommendation.containers[0].index],
    )
    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    order = submitted.orders[0]
    await cycle_handle(live.client, tenant.customer_id).result()  # closed: a new one may start
    second = await live.awaiting_approval(tenant)
    assert second.recommendation is not None
    version = second.recommendation.version
    assert version == first.recommendation.version + 1
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/orders/{order.order_id}")
    codes = await page.locator("[data-testid=order-line]").evaluate_all(
        "rs => rs.map(r => r.dataset.code)"
    )
    ordered = set(codes)
    await page.locator("[data-testid=order-again]").click()
    note = page.locator("[data-testid=order-again-note]")
    # Every product of the order is still sold: those v2 does not order are added to it.
    await expect(note).to_contain_text(f"set in recommendation v{version}")
    await expect(note).to_contain_text(f"{len(ordered)} quantit")
    await expect(note).not_to_contain_text("Not ordered any more")
    async with page.expect_navigation():
        await note.locator("[data-testid=to-recommendation]").click()
    assert page.url.endswith(f"/customers/{tenant.customer_id}/recommendation")
