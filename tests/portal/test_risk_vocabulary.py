"""One vocabulary of risk: the dashboard, the products list, the product page and the
recommendation say the same thing about the same product, and say it again after a
decision (the approved cartons count as on order at once)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from services.risk import LABELS, Risk
from tests.portal.conftest import LiveStack, Shot, login, needs_pages, review_and_approve
from workflows.contract.cycle import CycleStatus

pytestmark = needs_pages("dashboard.html", "products.html", "product.html", "recommendation.html")


async def product_row(page: Page, customer_id: int, code: str) -> dict[str, str]:
    await page.goto(f"/customers/{customer_id}/products?q={code}")
    row = page.locator(f"tr[data-testid=product][data-code='{code}']")
    await expect(row).to_have_count(1)
    cells: dict[str, str] = await row.evaluate(
        """r => Object.fromEntries([...r.querySelectorAll('td[data-field]')]
            .map(td => [td.dataset.field, td.textContent.trim()]))"""
    )
    cells["risk_value"] = await row.get_attribute("data-risk") or ""
    return cells


async def product_page(page: Page, customer_id: int, code: str) -> dict[str, str]:
    await page.goto(f"/customers/{customer_id}/products/{code}")
    out = {}
    for key in ("risk", "on-hand", "on-order", "on-hand-cover", "cover-with-orders"):
        out[key] = (await page.locator(f"[data-testid={key}]").inner_text()).strip()
    return out


async def agree(page: Page, customer_id: int, code: str) -> dict[str, str]:
    """The product as the list and its page show it: the same risk, stock and covers."""
    listed = await product_row(page, customer_id, code)
    own = await product_page(page, customer_id, code)
    assert listed["risk"] == own["risk"] == LABELS[Risk(listed["risk_value"])], (listed, own)
    assert listed["on_hand"] == own["on-hand"], (listed, own)
    assert listed["on_order"] == own["on-order"], (listed, own)
    assert listed["on_hand_cover"] == own["on-hand-cover"], (listed, own)
    assert listed["cover_with_orders"] == own["cover-with-orders"], (listed, own)
    return listed


async def test_every_page_says_the_same_risk_before_and_after_a_decision(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Risk Words Foods")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    c = tenant.customer_id
    await login(page, tenant.username)

    # The dashboard's counts are the products list's, risk by risk.
    await page.goto(f"/customers/{c}")
    counts = {}
    for risk in (
        "stocked_out",
        "runs_out_before_arrival",
        "below_safety",
        "excess",
        "too_much_on_order",
    ):
        counts[risk] = int(
            (await page.locator(f"[data-testid=risk-{risk}]").inner_text()).replace(",", "")
        )
    at_risk = int((await page.locator("[data-testid=at-risk]").inner_text()).replace(",", ""))
    assert (
        at_risk
        == counts["stocked_out"] + counts["runs_out_before_arrival"] + counts["below_safety"]
    )
    await shot(page, "risk-dashboard")
    for risk, count in counts.items():
        answer = await page.context.request.get(
            f"/api/customers/{c}/products", params={"risk": risk, "page_size": "1"}
        )
        assert (await answer.json())["total"] == count, risk
        await page.goto(f"/customers/{c}/products?risk={risk}")
        await expect(page.locator("[data-testid=product-count]")).to_contain_text(
            f"{count:,} products"
        )

    # One ordered product on every page: the list, its page, the recommendation's worksheet.
    line = state.recommendation.containers[0].lines[0]
    code = line.product_code
    before = await agree(page, c, code)
    await page.goto(f"/customers/{c}/recommendation?q={code}")
    row = page.locator(f"tr[data-testid=line][data-code='{code}']")
    on_hand = (await row.locator("td[data-field=on_hand]").inner_text()).strip()
    assert on_hand == before["on_hand"]
    if before["risk_value"] != Risk.OK.value:
        await expect(row.locator("[data-testid=line-risk]")).to_have_text(before["risk"])

    # After the approval: the order counts as on order everywhere, at once.
    ordered = sum(
        ln.quantity
        for cc in state.recommendation.containers
        for ln in cc.lines
        if ln.product_code == code
    )
    await page.goto(f"/customers/{c}/recommendation")
    await review_and_approve(page)
    await expect(page.locator("[data-testid=order]")).to_have_count(
        len(state.recommendation.containers)
    )
    await live.wait_for(tenant, CycleStatus.SUBMITTED)
    after = await agree(page, c, code)
    assert (
        int(after["on_order"].replace(",", ""))
        == int(before["on_order"].replace(",", "")) + ordered
    )
    if before["risk_value"] in {
        r.value for r in (Risk.STOCKED_OUT, Risk.RUNS_OUT_BEFORE_ARRIVAL, Risk.BELOW_SAFETY)
    }:
        assert after["risk_value"] == before["risk_value"], (
            "an order cannot arrive sooner than its lead time"
        )
    # The product page books the approved order in its arrival week, beside the target and
    # the safety stock of its line.
    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    numbers = {o.erp_order_number for o in submitted.orders}
    await page.goto(f"/customers/{c}/products/{code}")
    listed = await page.locator("[data-testid=arrivals] li").evaluate_all(
        "ls => ls.map(l => l.dataset.order)"
    )
    assert set(listed) & numbers, (listed, numbers)
    chart = page.locator("[data-testid=stock-chart]")
    await expect(chart.locator(".arrival").first).to_be_attached()
    await expect(chart.locator("line.safety")).to_have_count(1)
    await expect(chart.locator("line.target")).to_have_count(1)
    await expect(page.locator("[data-testid=shipments-chart] line.forecast")).to_have_count(1)
    await shot(page, "product-with-arrivals")

    await page.goto(f"/customers/{c}")
    await expect(page.locator("[data-testid=latest-recommendation]")).to_contain_text(
        f"v{state.recommendation.version}"
    )
    await expect(page.locator("[data-testid=latest-recommendation]")).to_contain_text("approved")
    await expect(page.locator("[data-testid=urgent-containers]")).to_have_text("0")
    await shot(page, "risk-dashboard-after-approval")
