"""The buyer's decision in the browser: edit, approve (orders reach the ERP once), reject."""

from __future__ import annotations

import csv
import io
import re
import time
from decimal import Decimal
from typing import Any

from playwright.async_api import Page, expect
from pypdf import PdfReader

from tests.portal.conftest import (
    LiveStack,
    Shot,
    Tenant,
    eventually,
    login,
    needs_pages,
    review_and_approve,
)
from workflows.contract.cycle import CycleState, CycleStatus, LineView

pytestmark = needs_pages("recommendation.html")

# Order statuses that mean "the ERP has it" and cycle statuses that follow a good submission.
SUBMITTED_ORDER = {"submitted", "in_transit", "delivered"}
SHIP_AFTER_DAYS = 8  # the ERP simulator ships an order 7 days after it was placed
# Records every text the cycle-status element shows, so the report can tell what was seen live.
WATCH_STATUS = """() => {
  window.__statuses = [];
  const el = document.querySelector('[data-testid=cycle-status]');
  if (!el) return false;
  window.__statuses.push(el.textContent.trim());
  new MutationObserver(() => window.__statuses.push(el.textContent.trim()))
    .observe(el, {childList: true, characterData: true, subtree: true});
  return true;
}"""


def editable_line(state: CycleState) -> LineView:
    """A product with packs of more than one carton and room to take one pack off (so
    `quantity - pack` is valid and `+ 1` of it is not), as the page's row shows it: its
    quantity over every container. One in a single container is preferred."""
    assert state.recommendation is not None
    lines = [line for c in state.recommendation.containers for line in c.lines]
    counts: dict[str, int] = {}
    totals: dict[str, int] = {}
    for line in lines:
        counts[line.product_code] = counts.get(line.product_code, 0) + 1
        totals[line.product_code] = totals.get(line.product_code, 0) + line.quantity
    for line in sorted(lines, key=lambda ln: counts[ln.product_code]):
        total = totals[line.product_code]
        if line.pack_size > 1 and total - line.pack_size >= max(line.moq, line.pack_size):
            return line.model_copy(update={"quantity": total})
    raise AssertionError(f"no editable line in {state.recommendation}")


async def open_recommendation(page: Page, tenant: Tenant, shot: Shot) -> None:
    """Log in, see the dashboard's call to action, follow it to the recommendation."""
    await login(page, tenant.username)
    assert page.url.endswith(f"/customers/{tenant.customer_id}"), page.url
    await page.locator("[data-testid=dashboard]").wait_for()
    await shot(page, "dashboard")
    review = page.locator("[data-testid=review-recommendation]")
    await expect(review).to_be_visible()
    async with page.expect_navigation():
        await review.click()
    assert page.url.endswith(f"/customers/{tenant.customer_id}/recommendation"), page.url


async def test_edit_then_approve_lands_one_erp_order_per_container(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Happy Path Foods")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    await open_recommendation(page, tenant, shot)

    # The containers as the cycle planned them: 1-based, all chosen, urgency flagged.
    containers = page.locator("[data-testid=container]")
    await expect(containers).to_have_count(len(state.recommendation.containers))
    for planned in state.recommendation.containers:
        box = page.locator(f"[data-testid=container][data-index='{planned.index}']")
        await expect(box).to_have_count(1)
        await expect(box.locator("[data-testid=choose-container]")).to_be_checked()
        badges = box.locator("[data-testid=urgent-badge]")
        await expect(badges).to_have_count(1 if planned.urgent else 0)
    await shot(page, "recommendation-before-approval")

    # An edit that is not a whole number of packs is refused on the spot.
    line = editable_line(state)
    row = page.locator(f"tr[data-testid=line][data-code='{line.product_code}']")
    await expect(row).to_have_count(1)
    assert await row.get_attribute("data-pack") == str(line.pack_size)
    assert await row.get_attribute("data-moq") == str(line.moq)
    qty = row.locator("input[data-testid=qty]")
    await expect(qty).to_have_value(str(line.quantity))
    approve = page.locator("[data-testid=approve]")
    await expect(approve).to_be_enabled()
    edited = line.quantity - line.pack_size
    await qty.fill(str(edited + 1))
    await expect(row.locator("[data-testid=qty-error]")).to_be_visible()
    await expect(approve).to_be_disabled()
    await shot(page, "recommendation-invalid-edit")

    # A whole number of packs clears the error; approving goes through without a reload.
    await qty.fill(str(edited))
    await expect(row.locator("[data-testid=qty-error]")).to_be_hidden()
    await expect(approve).to_be_enabled()
    assert await page.evaluate(WATCH_STATUS), "no [data-testid=cycle-status] before approval"
    await page.evaluate("window.__sameDocument = true")
    await approve.click()

    # The review states what goes to the ERP: one order per container, the edit named.
    review = page.locator("[data-testid=review]")
    await expect(review).to_be_visible()
    await expect(review.locator("[data-testid=review-order]")).to_have_count(
        len(state.recommendation.containers)
    )
    change = review.locator("[data-testid=review-change]")
    await expect(change).to_have_count(1)
    await expect(change).to_contain_text(f"{line.quantity:,} → {edited:,} cartons")
    await shot(page, "recommendation-review")
    await review.locator("[data-testid=confirm-approve]").click()

    orders = page.locator("[data-testid=order]")

    async def submitted_on_page() -> bool:
        count = await orders.count()
        if count == 0:
            return False
        for i in range(count):
            order = orders.nth(i)
            number = (await order.locator("[data-testid=erp-order-number]").inner_text()).strip()
            if await order.get_attribute("data-status") not in SUBMITTED_ORDER or not number:
                return False
        status = await page.locator("[data-testid=cycle-status]").inner_text()
        return "submitted" in status.lower()

    await eventually(submitted_on_page, "orders submitted with ERP numbers, cycle submitted")
    assert await page.evaluate("window.__sameDocument === true"), "the page reloaded"
    seen_statuses: list[str] = await page.evaluate("window.__statuses")
    print("cycle statuses seen live:", seen_statuses)
    await shot(page, "recommendation-after-approval")

    # The ERP holds exactly one order per approved container, and the edit landed.
    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    submissions = await live.submissions(tenant.erp_code)
    assert len(submissions) == len(submitted.orders), submissions
    assert [s["requests"] for s in submissions] == [1] * len(submissions), submissions
    assert sorted(s["idempotency_key"] for s in submissions) == sorted(
        o.idempotency_key for o in submitted.orders
    )
    numbers_on_page = sorted(
        [
            (await orders.nth(i).locator("[data-testid=erp-order-number]").inner_text()).strip()
            for i in range(await orders.count())
        ]
    )
    assert numbers_on_page == sorted(s["order_number"] for s in submissions)
    erp_orders: list[dict[str, Any]] = [
        await live.erp_order(tenant.erp_code, s["order_number"]) for s in submissions
    ]
    ordered = sum(
        ln["ORDER_QTY"]
        for doc in erp_orders
        for ln in doc["LINES"]
        if ln["ITEM_CODE"] == line.product_code
    )
    assert ordered == edited, (line, erp_orders)

    # The orders page lists them as submitted, then follows the ERP shipping them, live.
    await page.goto(f"/customers/{tenant.customer_id}/orders")
    rows = page.locator("tr[data-testid=order-row]")
    ours = [rows.filter(has_text=s["order_number"]) for s in submissions]
    for row in ours:
        await expect(row).to_have_count(1)
        assert await row.get_attribute("data-status") in SUBMITTED_ORDER
    await shot(page, "orders")
    await page.evaluate("window.__sameDocument = true")
    async with live.erp_sim.admin() as admin:
        moved = await admin.post("/admin/clock/advance", json={"days": SHIP_AFTER_DAYS})
    assert moved.status_code == 200, moved.text

    async def in_transit_on_page() -> bool:
        statuses = [await row.get_attribute("data-status") for row in ours]
        return all(s == "in_transit" for s in statuses)

    await eventually(in_transit_on_page, "the orders page shows the orders in transit")
    assert await page.evaluate("window.__sameDocument === true"), "the orders page reloaded"
    await shot(page, "orders-in-transit")


async def test_reject_with_a_reason_ends_the_cycle_without_orders(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Reject Path Foods")
    await live.awaiting_approval(tenant)
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/recommendation")

    # No reason, no rejection: the page refuses (button disabled or an error) and the cycle
    # still waits.
    await page.locator("[data-testid=open-reject]").click()
    reject = page.locator("[data-testid=reject]")
    if await reject.is_enabled():
        await reject.click()
        await expect(page.locator("[data-testid=action-error]")).to_be_visible()
    state = await live.wait_for(tenant, CycleStatus.AWAITING_APPROVAL)
    assert state.decision is None, state

    await page.fill("[data-testid=reject-reason]", "We are moving warehouses this month")
    await expect(reject).to_be_enabled()
    await reject.click()
    await expect(page.locator("[data-testid=cycle-status]")).to_contain_text(
        "rejected", ignore_case=True
    )
    await shot(page, "recommendation-rejected")
    rejected = await live.wait_for(tenant, CycleStatus.REJECTED)
    assert rejected.orders == []
    assert await live.submissions(tenant.erp_code) == []
    approve = page.locator("[data-testid=approve]")
    if await approve.count():
        await expect(approve).to_be_disabled()
    # The refusal of the empty reason is over: its message no longer shows beside "rejected".
    await expect(page.locator("[data-testid=action-error]")).to_be_hidden()


async def test_nothing_to_order_shows_all_healthy(live: LiveStack, page: Page, shot: Shot) -> None:
    """A customer who buys little, with a tiny target: no product needs half a carton, the
    cycle plans no container and the page says all is well instead of showing an empty
    decision form. (Not a part-full container that `auto` drops: before any consumption
    history, a first review ships its last container as packed.)"""
    tenant = await live.new_tenant(
        "Well Stocked",
        monthly_cartons=10,
        target_soh_weeks=0.1,
        lead_time_weeks=0,
        safety_weeks=0,
        last_container="auto",
    )
    await live.start(tenant)
    state = await live.wait_for(tenant, CycleStatus.NOTHING_TO_ORDER, CycleStatus.AWAITING_APPROVAL)
    print(state.status, state.recommendation and state.recommendation.summary)
    assert state.status is CycleStatus.NOTHING_TO_ORDER
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/recommendation")
    await expect(page.locator("[data-testid=all-healthy]")).to_be_visible()
    await expect(page.locator("[data-testid=container]")).to_have_count(0)
    await expect(page.locator("[data-testid=approve]")).to_have_count(0)
    await shot(page, "recommendation-all-healthy")


async def test_only_the_chosen_containers_are_ordered(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    # Three times the default demand: two or more containers whatever day the ERP's data
    # is generated for (at the default, some days plan one).
    tenant = await live.new_tenant("Partial Approval Foods", monthly_cartons=120_000)
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    planned = state.recommendation.containers
    assert len(planned) >= 2, state.recommendation
    dropped = planned[-1].index
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/recommendation")
    box = page.locator(f"[data-testid=container][data-index='{dropped}']")
    await box.locator("[data-testid=choose-container]").uncheck()
    await expect(page.locator("[data-testid=approve]")).to_be_enabled()
    await page.locator("[data-testid=approve]").click()
    await expect(page.locator("[data-testid=review-summary]")).to_contain_text(
        f"Container {dropped} ({planned[-1].cartons:,} cartons) is not approved: its products "
        "come back at the next review, re-planned"
    )
    apart = page.locator("[data-testid=review-left-out-container]")
    await expect(apart).to_have_count(1)
    for line in planned[-1].lines:
        await expect(apart).to_contain_text(f"{line.product_code} {line.quantity:,}")
    await page.locator("[data-testid=confirm-approve]").click()
    await expect(page.locator("[data-testid=order]")).to_have_count(len(planned) - 1)
    await expect(page.locator("[data-testid=decision-note]")).to_contain_text(
        f"Container {dropped} was not approved: nothing of it is ordered now"
    )

    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    chosen = {c.index for c in planned} - {dropped}
    assert {o.container_index for o in submitted.orders} == chosen, submitted.orders
    submissions = await live.submissions(tenant.erp_code)
    assert len(submissions) == len(chosen), submissions


async def test_a_second_approval_from_a_stale_tab_is_refused_on_the_page(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    """Two tabs show the same recommendation; the first approves. The second's approval is
    refused by the cycle (409) and the page says so; the ERP gets each container once."""
    tenant = await live.new_tenant("Two Tabs Foods")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    await login(page, tenant.username)
    path = f"/customers/{tenant.customer_id}/recommendation"
    await page.goto(path)
    second = await page.context.new_page()
    # The stale tab's timers are held, so it cannot notice the approval by polling before
    # its own click (the test of that is below): the click must meet the cycle's refusal.
    # Installed, the page's clock still runs; paused, no poll fires until `run_for` below
    # (a poll during a slow approval locked the stale tab once, and its click found no button).
    await second.clock.install()
    await second.goto(path)
    await second.clock.pause_at(int(time.time() * 1000) + 1_000)
    await expect(second.locator("[data-testid=approve]")).to_be_enabled()
    # The stale tab reviews first (nothing decided yet), then the other tab approves.
    await second.locator("[data-testid=approve]").click()
    await expect(second.locator("[data-testid=confirm-approve]")).to_be_visible()

    await review_and_approve(page)
    await expect(page.locator("[data-testid=order]")).to_have_count(
        len(state.recommendation.containers)
    )
    await second.locator("[data-testid=confirm-approve]").click()
    error = second.locator("[data-testid=action-error]")
    await expect(error).to_be_visible()
    assert (await error.inner_text()).strip()
    await shot(second, "recommendation-stale-tab-refused")

    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    submissions = await live.submissions(tenant.erp_code)
    assert len(submissions) == len(submitted.orders) == len(state.recommendation.containers)

    # After the refusal the stale tab catches up and shows where the cycle really is; the
    # refusal stays on screen.
    await second.clock.run_for(10_000)
    # A poll answered while the refused approval was in flight may already have set the
    # badge without locking (its answer is not taken for a decision then): the lock comes
    # with the next poll's answer, so the note is waited for as long as the badge.
    await expect(second.locator("[data-testid=cycle-status]")).to_contain_text(
        "submitted", ignore_case=True, timeout=15_000
    )
    await expect(second.locator("[data-testid=decision-note]")).to_contain_text(
        "no longer waiting", timeout=15_000
    )
    await expect(second.locator("[data-testid=approve]")).to_be_disabled()
    await expect(error).to_be_visible()


async def test_an_extra_zero_is_refused_with_its_reason_and_nothing_reaches_the_erp(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    """7,728 -> 77,280: the page warns, the review refuses with the container count, and the
    cycle's validator refuses the same approval sent straight to the API."""
    tenant = await live.new_tenant("Extra Zero Foods")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    containers = state.recommendation.containers
    target = containers[-1]
    line = max(target.lines, key=lambda ln: ln.quantity)
    # The product's quantity is its total over every container it is in.
    suggested = sum(
        ln.quantity for c in containers for ln in c.lines if ln.product_code == line.product_code
    )
    assert state.recommendation.limits is not None
    capacity = state.recommendation.limits.cartons
    cartons = sum(c.cartons for c in containers)
    typo = suggested * 10
    while cartons - suggested + typo <= capacity * len(containers):
        typo *= 10
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/recommendation")
    row = page.locator(f"tr[data-testid=line][data-code='{line.product_code}']")
    await row.locator("input[data-testid=qty]").fill(str(typo))
    box = page.locator(f"[data-testid=container][data-index='{target.index}']")
    await expect(box).to_have_class(re.compile(r"\bover\b"))
    await expect(page.locator("[data-testid=approve-summary]")).to_contain_text(
        f"Container {target.index} would be over its limit"
    )

    await page.locator("[data-testid=approve]").click()
    error = page.locator("[data-testid=action-error]")
    await expect(error).to_contain_text("containers")
    text = await error.inner_text()
    assert f"but {len(containers)} " in text and "ERP orders" in text, text
    await expect(page.locator("[data-testid=review]")).to_be_hidden()
    await shot(page, "recommendation-extra-zero-refused")

    # The same approval sent to the API, bypassing the page: the cycle refuses it.
    token = await page.evaluate(
        "() => decodeURIComponent(document.cookie.match(/restock_csrf=([^;]+)/)[1])"
    )
    answer = await page.context.request.post(
        f"/api/customers/{tenant.customer_id}/orders",
        data={"version": state.recommendation.version, "edits": {line.product_code: typo}},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status == 409, await answer.text()
    body = await answer.json()
    assert "need" in body["detail"] and "ERP orders" in body["detail"], body

    still = await live.wait_for(tenant, CycleStatus.AWAITING_APPROVAL)
    assert still.decision is None and still.orders == []
    assert await live.submissions(tenant.erp_code) == []

    # Undoing the typo lets the same page review and approve.
    await row.locator("input[data-testid=qty]").fill(str(suggested))
    await review_and_approve(page)
    await expect(page.locator("[data-testid=order]")).to_have_count(len(containers))
    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    assert len(await live.submissions(tenant.erp_code)) == len(submitted.orders)


async def test_a_credit_hold_is_told_in_words_on_every_page(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    """The ERP refuses the approved containers (credit hold): the page does not say a bare
    "Approved."; the orders, the dashboard banner and the order list say what happened and
    what happens next, without the raw ERP code."""
    tenant = await live.new_tenant("Credit Hold Foods")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    async with live.erp_sim.admin() as admin:
        held = await admin.patch(
            f"/admin/customers/{tenant.erp_code}", json={"credit_status": "hold"}
        )
        assert held.status_code == 204, held.text
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/recommendation")
    await review_and_approve(page)
    note = page.locator("[data-testid=decision-note]")
    await expect(note).to_contain_text("Approved, but the ERP did not take container")
    failures = page.locator("[data-testid=order-failure]")
    await expect(failures.first).to_contain_text("credit hold with the supplier")
    await shot(page, "recommendation-credit-hold")
    await live.wait_for(tenant, CycleStatus.SUBMISSION_FAILED)
    assert await live.submissions(tenant.erp_code) == []

    await page.goto(f"/customers/{tenant.customer_id}")
    banner = page.locator("[data-testid=health-banner]")
    await expect(banner).to_contain_text("The ERP did not take part of your approved order")
    await expect(banner).to_contain_text("contact the supplier's accounts team")
    await expect(page.locator("[data-testid=banner-detail]")).to_have_count(0)
    await shot(page, "dashboard-credit-hold-banner")
    await page.goto(f"/customers/{tenant.customer_id}/orders")
    await expect(page.locator("[data-testid=order-failure]").first).to_contain_text("credit hold")
    assert "E_CREDIT_HOLD" not in await page.locator("main").inner_text()


async def test_an_order_can_be_followed_to_its_lines_history_and_export(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Order Detail Foods")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/recommendation")
    await review_and_approve(page)
    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    order = submitted.orders[0]
    assert order.erp_order_number

    await page.goto(f"/customers/{tenant.customer_id}/orders")
    await page.locator("[data-testid=order-link]", has_text=order.erp_order_number).click()
    await expect(page.locator("[data-testid=erp-number]")).to_have_text(order.erp_order_number)
    await expect(page.locator("[data-testid=from-version]")).to_have_text(
        f"v{state.recommendation.version}"
    )
    erp = await live.erp_order(tenant.erp_code, order.erp_order_number)
    expected = {ln["ITEM_CODE"]: ln["ORDER_QTY"] for ln in erp["LINES"]}
    shown = await page.locator("[data-testid=order-line]").evaluate_all(
        "rs => rs.map(r => [r.dataset.code, r.querySelector('td').textContent.trim()])"
    )
    assert {code: int(qty.replace(",", "")) for code, qty in shown} == expected
    statuses = await page.locator("[data-testid=order-history] li").evaluate_all(
        "ls => ls.map(l => l.dataset.status)"
    )
    assert statuses[0] == "approved" and "submitted" in statuses, statuses
    await shot(page, "order-detail")
    link = await page.locator("[data-testid=export-order]").get_attribute("href")
    assert link
    text = (await (await page.context.request.get(link)).body()).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert {row[4]: int(row[6]) for row in table[1:]} == expected
    assert all(row[0] == order.erp_order_number for row in table[1:])
    # Its value at the ERP's prices: the lines add up to the order's, to the cent.
    assert table[0][8] == "Value (EUR)"
    shown_value = await page.locator("[data-testid=order-value]").inner_text()
    assert sum(Decimal(row[8]) for row in table[1:]) == Decimal(
        shown_value.removeprefix("€").replace(",", "")
    )

    # Its confirmation, printable: every container's ERP order with this one's lines.
    async with page.expect_download() as download_info:
        await page.locator("[data-testid=order-confirmation-pdf]").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(f"-v{state.recommendation.version}.pdf")
    path = await download.path()
    printed = "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)
    assert f"ERP order {order.erp_order_number}" in printed
    assert all(code in printed for code in expected)

    # Another customer's order is not there for this buyer.
    other = await page.goto(f"/customers/{live.a.customer_id}/orders/{order.order_id}")
    assert other is not None and other.status == 404
    mine_elsewhere = await page.context.request.get(
        f"/api/customers/{tenant.customer_id}/orders/{order.order_id + 100000}/lines.csv"
    )
    assert mine_elsewhere.status == 404


async def test_a_credit_hold_at_the_sync_is_said_before_anyone_approves(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    """The ERP had the credit on hold when the cycle synced: every page says so, and an
    approval is refused in words, with nothing sent to the ERP."""
    tenant = await live.new_tenant("Held Credit Foods")
    async with live.erp_sim.admin() as admin:
        held = await admin.patch(
            f"/admin/customers/{tenant.erp_code}", json={"credit_status": "hold"}
        )
        assert held.status_code == 204, held.text
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None and state.recommendation.credit_hold
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/recommendation")
    banner = page.locator("[data-testid=health-banner]")
    await expect(banner).to_contain_text("Your credit is on hold with the supplier")
    await expect(banner).to_contain_text("approvals are refused")
    await review_and_approve(page)
    await expect(page.locator("[data-testid=action-error]")).to_contain_text(
        "the ERP has this customer's credit on hold"
    )
    await shot(page, "recommendation-credit-hold-at-sync")
    assert await live.submissions(tenant.erp_code) == []
    again = await live.wait_for(tenant, CycleStatus.AWAITING_APPROVAL)
    assert again.decision is None and again.orders == []
    await page.goto(f"/customers/{tenant.customer_id}")
    await expect(banner).to_contain_text("Your credit is on hold with the supplier")
