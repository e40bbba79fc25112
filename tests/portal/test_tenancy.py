"""One buyer never sees another customer's pages: every one of them is the 404 page."""

from __future__ import annotations

from playwright.async_api import Page

from tests.portal.conftest import LiveStack, Shot, login, needs_pages
from workflows.contract.cycle import CycleStatus

pytestmark = needs_pages("not_found.html", "dashboard.html", "products.html", "orders.html")


async def test_other_customers_pages_are_not_found(live: LiveStack, page: Page, shot: Shot) -> None:
    a, b = live.a, live.b
    state_b = await live.wait_for(b, CycleStatus.AWAITING_APPROVAL)
    assert state_b.recommendation is not None
    product_b = state_b.recommendation.containers[0].lines[0].product_code
    await login(page, a.username)
    paths = [
        f"/customers/{b.customer_id}",
        f"/customers/{b.customer_id}/recommendation",
        f"/customers/{b.customer_id}/products",
        f"/customers/{b.customer_id}/products?q={product_b}",
        f"/customers/{b.customer_id}/orders",
        f"/customers/{b.customer_id}/products/{product_b}",
    ]
    for path in paths:
        response = await page.goto(path)
        assert response is not None
        assert response.status == 404, (path, response.status)
        assert await page.locator("[data-testid=not-found]").count() == 1, path
        html = await page.content()
        assert b.name not in html, path
        assert b.erp_code not in html, path
    await shot(page, "not-found")

    # Its own pages still answer (the 404s above are about B, not a broken session).
    response = await page.goto(f"/customers/{a.customer_id}/products")
    assert response is not None and response.status == 200
    assert b.name not in await page.content()


async def test_a_buyer_gets_no_ops_console(live: LiveStack, page: Page) -> None:
    await login(page, live.a.username)
    for path in ("/ops", f"/ops/customers/{live.b.customer_id}/settings"):
        response = await page.goto(path)
        assert response is not None
        assert response.status in (403, 404), (path, response.status)
        assert await page.locator("tr[data-testid=cycle-row]").count() == 0, path
        assert await page.locator("[data-testid=settings-form]").count() == 0, path
        assert live.b.name not in await page.content(), path
