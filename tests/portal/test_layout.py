"""Layout and reach: a phone, the keyboard, and how soon each page is interactive.

Timings are recorded to test-artifacts/portal/timings.json, never asserted: one run on a
shared two-core machine says little about speed, and a test must not fail on a slow minute.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from tests.portal.conftest import (
    PHONE,
    ContextFactory,
    LiveStack,
    Shot,
    approve_over_api,
    login,
    needs_pages,
)
from workflows.contract.cycle import CycleStatus

pytestmark = needs_pages("dashboard.html", "recommendation.html", "products.html", "ops.html")

NAVIGATION_TIMING = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  return {
    status: n.responseStatus ?? null,
    response_end_ms: Math.round(n.responseEnd),
    dom_interactive_ms: Math.round(n.domInteractive),
    dom_content_loaded_ms: Math.round(n.domContentLoadedEventEnd),
    load_ms: Math.round(n.loadEventEnd),
    transfer_bytes: n.transferSize,
    html_bytes: n.decodedBodySize,
    resources: performance.getEntriesByType('resource').length,
  };
}"""


async def test_phone_dashboard_has_no_horizontal_scroll(
    live: LiveStack, new_context: ContextFactory, shot: Shot
) -> None:
    context = await new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await login(page, live.a.username)
    await page.locator("[data-testid=dashboard]").wait_for()
    widths = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    await shot(page, "phone-dashboard")
    assert widths[0] <= widths[1], f"scrollWidth {widths[0]} > innerWidth {widths[1]}"
    # The other customer pages, recorded for the report (tables may scroll inside a wrapper).
    for name, path in (
        ("recommendation", f"/customers/{live.a.customer_id}/recommendation"),
        ("products", f"/customers/{live.a.customer_id}/products"),
        ("orders", f"/customers/{live.a.customer_id}/orders"),
    ):
        await page.goto(path)
        scroll, inner = await page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        print(f"phone {name}: scrollWidth {scroll}, innerWidth {inner}")
        await shot(page, f"phone-{name}")
        table = page.locator("main table").first
        if await table.count():
            await table.scroll_into_view_if_needed()
            await shot(page, f"phone-{name}-table", full_page=False)


async def test_keyboard_reaches_the_approve_button(live: LiveStack, page: Page) -> None:
    await live.wait_for(live.a, CycleStatus.AWAITING_APPROVAL)
    await login(page, live.a.username)
    await page.goto(f"/customers/{live.a.customer_id}/recommendation")
    approve = page.locator("[data-testid=approve]")
    await expect(approve).to_be_enabled()
    await page.locator("body").focus()
    presses = 0
    focused = False
    while presses < 400 and not focused:
        await page.keyboard.press("Tab")
        presses += 1
        focused = await approve.evaluate("el => el === document.activeElement")
    assert focused, f"Tab never focused the approve button ({presses} presses)"
    print("Tab presses to the approve button:", presses)
    # Focus is visible: the focused button draws an outline or a box shadow.
    ring = await approve.evaluate(
        "el => { const s = getComputedStyle(el); "
        "return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) "
        "|| s.boxShadow !== 'none'; }"
    )
    assert ring, "the focused approve button shows no focus ring"


async def test_record_time_to_interactive(
    live: LiveStack, new_context: ContextFactory, artifacts_dir: Path
) -> None:
    state = await live.wait_for(live.a, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None
    code = state.recommendation.containers[0].lines[0].product_code
    a = live.a.customer_id
    timings: dict[str, Any] = {}

    buyer = await (await new_context()).new_page()
    await buyer.goto("/login")
    timings["login"] = await buyer.evaluate(NAVIGATION_TIMING)
    await login(buyer, live.a.username)
    for name, path in (
        ("dashboard", f"/customers/{a}"),
        ("recommendation", f"/customers/{a}/recommendation"),
        ("products", f"/customers/{a}/products"),
        ("product", f"/customers/{a}/products/{code}"),
        ("orders", f"/customers/{a}/orders"),
        ("not_found", f"/customers/{live.b.customer_id}"),
    ):
        await buyer.goto(path)
        timings[name] = {"path": path, **await buyer.evaluate(NAVIGATION_TIMING)}

    ops = await (await new_context()).new_page()
    await login(ops, live.ops_username)
    for name, path in (("ops", "/ops"), ("settings", f"/ops/customers/{a}/settings")):
        await ops.goto(path)
        timings[name] = {"path": path, **await ops.evaluate(NAVIGATION_TIMING)}

    out = artifacts_dir / "portal" / "timings.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(timings, indent=2) + "\n")
    print(json.dumps({k: v["dom_interactive_ms"] for k, v in timings.items()}))
    for name, timing in timings.items():
        assert timing["dom_interactive_ms"] > 0, (name, timing)


async def test_every_page_at_1366_and_390_px(
    live: LiveStack, new_context: ContextFactory, shot: Shot
) -> None:
    """A screenshot of each page at both widths (test-artifacts/portal/<width>-<page>.png).
    No page scrolls sideways as a whole (wide tables scroll inside their frame), and at 390 px
    the actions stay on screen: the quantity field and the decision bar of the
    recommendation, each ops row's links."""
    state = await live.wait_for(live.a, CycleStatus.AWAITING_APPROVAL)
    assert state.recommendation is not None
    code = state.recommendation.containers[0].lines[0].product_code
    # An order to show: another customer's approval (the shared one keeps waiting).
    ordering = await live.new_tenant("Screenshot Orders")
    waiting = await live.awaiting_approval(ordering)
    assert waiting.recommendation is not None
    await approve_over_api(live, ordering, waiting.recommendation.version)
    order_id = (await live.wait_for(ordering, CycleStatus.SUBMITTED)).orders[0].order_id
    c = f"/customers/{live.a.customer_id}"
    customer_pages = {
        "dashboard": c,
        "recommendation": f"{c}/recommendation",
        "products": f"{c}/products",
        "product": f"{c}/products/{code}",
        "orders": f"{c}/orders",
    }
    ops_pages = {
        "ops": "/ops",
        "settings": f"/ops/customers/{live.a.customer_id}/settings",
        "data-quality": f"/ops/customers/{live.a.customer_id}/data-quality",
        "audit": "/ops/audit",
    }
    for width, viewport in ((1366, {"width": 1366, "height": 900}), (390, PHONE)):
        phone = width == 390
        context = await new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
        page = await context.new_page()
        await page.goto("/login")
        await shot(page, f"{width}-login")
        order_page = {"order": f"/customers/{ordering.customer_id}/orders/{order_id}"}
        for who, pages in (
            (live.a.username, customer_pages),
            (ordering.username, order_page),
            (live.ops_username, ops_pages),
        ):
            await login(page, who)
            for name, path in pages.items():
                response = await page.goto(path)
                assert response is not None and response.ok, (path, response)
                scroll, inner = await page.evaluate(
                    "() => [document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert scroll <= inner, f"{width}px {name}: scrollWidth {scroll} > {inner}"
                await shot(page, f"{width}-{name}")
                if phone and name == "recommendation":
                    qty = page.locator("[data-testid=qty]").first
                    box = await qty.bounding_box()
                    assert box and box["x"] + box["width"] <= inner, box
                    await expect(page.locator("[data-testid=approve]")).to_be_in_viewport()
                if phone and name == "ops":
                    links = page.locator("[data-testid=settings-link]")
                    for i in range(await links.count()):
                        box = await links.nth(i).bounding_box()
                        assert box and box["x"] + box["width"] <= inner, (i, box)
            async with page.expect_navigation():
                await page.click("[data-testid=logout]")
        await context.close()
