"""The products pages: search, filter, sort, the product page's charts, and hostile names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page, expect

from tests.portal.conftest import LiveStack, Shot, login, needs_pages
from workflows.contract.cycle import CycleStatus

pytestmark = needs_pages("products.html", "product.html")

MARKUP = "<script>window.__xss=1</script><b>bold</b>"


async def page_codes(page: Page) -> list[str]:
    rows = page.locator("tr[data-testid=product]")
    return [await rows.nth(i).get_attribute("data-code") or "" for i in range(await rows.count())]


async def api_codes(context: BrowserContext, customer_id: int, **params: str) -> list[str]:
    """The same listing from the JSON API, with the browser's own session."""
    response = await context.request.get(
        f"/api/customers/{customer_id}/products", params={"page_size": "200", **params}
    )
    assert response.ok, await response.text()
    body: dict[str, Any] = await response.json()
    return [item["code"] for item in body["items"]]


async def test_products_page_lists_what_the_api_lists(
    live: LiveStack, context: BrowserContext, page: Page, shot: Shot
) -> None:
    tenant = live.a
    await live.wait_for(tenant, CycleStatus.AWAITING_APPROVAL)
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/products")
    everything = await page_codes(page)
    assert everything, "no product rows"
    assert sorted(everything) == sorted(await api_codes(context, tenant.customer_id))
    await shot(page, "products")


async def test_search_form_finds_by_code_and_by_name(
    live: LiveStack, context: BrowserContext, page: Page
) -> None:
    """Typing in the search box and pressing Enter submits the whole filter form (with the
    status select on "all")."""
    tenant = live.a
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/products")
    everything = await page_codes(page)
    assert everything, "no product rows"

    code = everything[-1]
    row = page.locator(f"tr[data-testid=product][data-code='{code}']")
    # The product's name only: the row also holds status badges ("healthy", "urgent"), which
    # are not searchable text.
    name = (await row.locator(".name").inner_text()).strip()
    word = max((w for w in name.split() if w.isalpha()), key=len)

    # Search by a code: exactly that product.
    await page.fill("input[name=q]", code)
    async with page.expect_navigation() as navigation:
        await page.press("input[name=q]", "Enter")
    response = await navigation.value
    assert response is not None and response.status == 200, (page.url, response and response.status)
    assert await page_codes(page) == [code]

    # Search by a word of a name, in another case: what the API finds.
    await page.goto(f"/customers/{tenant.customer_id}/products")
    await page.fill("input[name=q]", word.upper())
    async with page.expect_navigation():
        await page.press("input[name=q]", "Enter")
    found = await page_codes(page)
    assert code in found
    assert sorted(found) == sorted(await api_codes(context, tenant.customer_id, q=word.upper()))


async def test_risk_filter_and_sort(live: LiveStack, context: BrowserContext, page: Page) -> None:
    tenant = live.a
    await login(page, tenant.username)

    # Each risk shows what the API has at that risk; the groups show the union of theirs.
    await page.goto(f"/customers/{tenant.customer_id}/products")
    options = await page.locator("select[name=risk] option").evaluate_all(
        "options => options.map(o => o.value).filter(v => v)"
    )
    assert {"at_risk", "stocked_out", "runs_out_before_arrival", "ok", "overstocked"} <= set(
        options
    ), options
    non_empty = 0
    for risk in options:
        await page.goto(f"/customers/{tenant.customer_id}/products?risk={risk}")
        await expect(page.locator("select[name=risk]")).to_have_value(risk)
        shown = await page_codes(page)
        if risk in ("at_risk", "overstocked"):
            continue
        assert sorted(shown) == sorted(await api_codes(context, tenant.customer_id, risk=risk)), (
            risk
        )
        non_empty += bool(shown)
    assert non_empty >= 2, "the seeded customer should have products at two risks at least"
    group = [
        code
        for risk in ("stocked_out", "runs_out_before_arrival", "below_safety")
        for code in await api_codes(context, tenant.customer_id, risk=risk)
    ]
    await page.goto(f"/customers/{tenant.customer_id}/products?risk=at_risk")
    assert sorted(await page_codes(page)) == sorted(group)

    # Sorting by code puts the rows in code order.
    await page.goto(f"/customers/{tenant.customer_id}/products?sort=code")
    await expect(page.locator("select[name=sort]")).to_have_value("code")
    by_code = await page_codes(page)
    assert by_code == sorted(by_code)


async def test_product_page_has_charts(live: LiveStack, page: Page, shot: Shot) -> None:
    tenant = live.a
    state = await live.wait_for(tenant, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None
    code = state.recommendation.containers[0].lines[0].product_code
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/products?q={code}")
    link = page.locator(f"tr[data-testid=product][data-code='{code}'] a").first
    async with page.expect_navigation():
        await link.click()
    assert page.url.endswith(f"/customers/{tenant.customer_id}/products/{code}"), page.url
    for chart in ("stock-chart", "shipments-chart"):
        svg = page.locator(f"[data-testid={chart}]")
        await expect(svg).to_be_visible()
        is_svg = await svg.evaluate(
            "el => el.tagName.toLowerCase() === 'svg' || !!el.querySelector('svg')"
        )
        assert is_svg, f"{chart} is not an inline SVG"
        box = await svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50, (chart, box)
    # What its recommended cartons are worth: its lines in the containers, to the cent.
    lines = [
        line
        for c in state.recommendation.containers
        for line in c.lines
        if line.product_code == code
    ]
    assert all(line.unit_price is not None for line in lines)
    worth = sum(((line.unit_price or Decimal(0)) * line.quantity for line in lines), Decimal(0))
    shown = await page.locator("[data-testid=ordered-value]").inner_text()
    assert Decimal(shown.removeprefix("€").replace(",", "")) == worth
    await expect(page.locator("[data-testid=price-list]")).to_contain_text("Price per carton: €")
    await shot(page, "product")


async def test_markup_in_a_product_name_is_shown_as_text(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    """A product whose ERP name is HTML: the ERP simulator's admin API appends a raw items row
    (as a broken or hostile ERP would serve it); the cycle's sync stores it as it is."""
    tenant = await live.new_tenant("Markup Traders")
    async with httpx.AsyncClient(
        base_url=live.erp_sim.base_url, headers={"X-Api-Key": live.erp_sim.api_key}
    ) as erp:
        items = (await erp.get(f"/api/v1/customers/{tenant.erp_code}/items")).json()["ROWS"]
    row = dict(items[0])
    code = f"{row['ITEM_CODE'].rsplit('-', 1)[0]}-999999"
    row.update(ITEM_CODE=code, ITEM_DESC=MARKUP)
    async with live.erp_sim.admin() as admin:
        response = await admin.post(f"/admin/customers/{tenant.erp_code}/rows/items", json=[row])
    assert response.status_code == 200, response.text
    await live.start(tenant)
    await live.wait_for(tenant, CycleStatus.AWAITING_APPROVAL, CycleStatus.NOTHING_TO_ORDER)

    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/products?sort=code")
    product = page.locator(f"tr[data-testid=product][data-code='{code}']")
    await expect(product).to_have_count(1)
    await expect(product).to_contain_text(MARKUP)
    assert await product.locator("b, script").count() == 0
    assert await page.evaluate("typeof window.__xss") == "undefined"
    await shot(page, "products-markup-name")

    await page.goto(f"/customers/{tenant.customer_id}/products/{code}")
    await expect(page.locator("main")).to_contain_text(MARKUP)
    assert await page.locator("main b", has_text="bold").count() == 0
    assert await page.evaluate("typeof window.__xss") == "undefined"
    injected = "() => [...document.scripts].some(s => s.textContent.includes('__xss'))"
    assert not await page.evaluate(injected), "the name became a <script> element"
    await shot(page, "product-markup-name")
