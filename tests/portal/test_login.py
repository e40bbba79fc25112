"""Logging in through the browser: the form, a wrong password, the redirect per role, logout."""

from __future__ import annotations

import asyncio

from playwright.async_api import BrowserContext, Page, expect

from services.accounts import reset_password
from store.db import unit_of_work
from tests.portal.conftest import ContextFactory, LiveStack, Shot, api_login, login, needs_pages
from workflows.contract.cycle import CycleStatus

needs_portal = needs_pages("login.html")
NEW_PASSWORD = "a-brand-new-password-42"


async def test_harness_serves_the_api_to_the_browser(
    live: LiveStack, context: BrowserContext, page: Page
) -> None:
    """The stack answers the browser: liveness, and a login that sets the session cookie."""
    await page.goto("/healthz")
    assert "ok" in (await page.content()).lower()
    await api_login(context, live.a.username)
    me = await context.request.get("/api/me")
    assert me.ok, await me.text()
    assert (await me.json())["customer_id"] == live.a.customer_id
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies["restock_session"]["httpOnly"] is True
    wrong = await context.request.post(
        "/api/auth/login", data={"username": live.a.username, "password": "not-the-password"}
    )
    assert wrong.status == 401


@needs_portal
async def test_login_form_and_wrong_password(live: LiveStack, page: Page, shot: Shot) -> None:
    await page.goto("/login")
    for selector in ("input#username", "input#password", "button[type=submit]"):
        assert await page.locator(selector).count() == 1, selector
    assert await page.locator("[data-testid=login-error]").count() == 0
    await page.fill("input#username", live.a.username)
    await page.fill("input#password", "definitely-wrong-password")
    await page.click("button[type=submit]")
    error = page.locator("[data-testid=login-error]")
    await error.wait_for()
    assert (await error.inner_text()).strip()
    assert "/login" in page.url
    await shot(page, "login-error")


@needs_portal
async def test_customer_lands_on_own_dashboard_and_logs_out(live: LiveStack, page: Page) -> None:
    await login(page, live.a.username)
    assert page.url.endswith(f"/customers/{live.a.customer_id}"), page.url
    await page.locator("[data-testid=dashboard]").wait_for()
    async with page.expect_navigation():
        await page.click("[data-testid=logout]")
    assert "/login" in page.url, page.url
    # The session is gone: the dashboard sends the browser back to the login page.
    await page.goto(f"/customers/{live.a.customer_id}")
    assert "/login" in page.url, page.url


@needs_portal
async def test_ops_lands_on_ops_console(live: LiveStack, page: Page) -> None:
    await login(page, live.ops_username)
    assert page.url.endswith("/ops"), page.url
    assert await page.locator("[data-testid=dashboard]").count() == 0


async def test_seeded_tenants_wait_for_approval(live: LiveStack) -> None:
    """The harness's seed: both tenants' cycles planned containers and wait for a decision."""
    for tenant in (live.a, live.b):
        state = await live.wait_for(tenant, CycleStatus.AWAITING_APPROVAL)
        assert state.recommendation is not None and state.recommendation.containers


@needs_portal
async def test_login_returns_to_the_page_asked_for_and_only_on_this_site(
    live: LiveStack, page: Page, new_context: ContextFactory
) -> None:
    products = f"/customers/{live.a.customer_id}/products"
    await page.goto(products)
    assert "/login" in page.url, page.url
    await page.fill("input#username", live.a.username)
    await page.fill("input#password", live.a.password)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert page.url == live.url(products), page.url

    # A target on another site is ignored: the buyer lands on the dashboard.
    fresh = await (await new_context()).new_page()
    await fresh.goto("/login?next=//example.com/phish")
    await fresh.fill("input#username", live.a.username)
    await fresh.fill("input#password", live.a.password)
    async with fresh.expect_navigation():
        await fresh.click("button[type=submit]")
    assert fresh.url == live.url(f"/customers/{live.a.customer_id}"), fresh.url


@needs_portal
async def test_throttled_login_shows_the_error_on_the_form(live: LiveStack, page: Page) -> None:
    """Past five free guesses each wrong password makes the next attempt wait a delay that
    doubles (1 s, 2 s, 4 s, …): even the right one is then refused, with the message on the
    form (not a JSON error). Each guess after the fifth waits out the delay the last one set,
    so it counts; after nine the right password comes within the 16 s the ninth set, however
    slow the machine (a 1 s delay raced the next click on a slow one)."""
    tenant = await live.new_tenant("Throttle Test")
    error = page.locator("[data-testid=login-error]")
    for guess in range(9):
        if guess >= 5:
            await asyncio.sleep(2 ** (guess - 5) + 0.5)
        await page.goto("/login")
        await page.fill("input#username", tenant.username)
        await page.fill("input#password", "wrong-password-again")
        await page.click("button[type=submit]")
        await expect(error).to_be_visible()
        await expect(error).not_to_contain_text("too many", ignore_case=True)
    await page.goto("/login")
    await page.fill("input#username", tenant.username)
    await page.fill("input#password", tenant.password)
    async with page.expect_navigation() as navigation:
        await page.click("button[type=submit]")
    response = await navigation.value
    assert response is not None and response.status == 429, response and response.status
    await expect(error).to_contain_text("too many", ignore_case=True)
    assert "/login" in page.url, page.url


async def test_a_reset_password_ends_the_session_and_the_page_says_it_expired(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Reset Password Foods")
    await login(page, tenant.username)
    await page.locator("[data-testid=dashboard]").wait_for()
    async with unit_of_work(live.sessions) as session:
        await reset_password(session, tenant.username, NEW_PASSWORD, actor="test")
    await page.reload()
    assert "/login" in page.url and "expired=1" in page.url, page.url
    await expect(page.locator("[data-testid=session-expired]")).to_contain_text(
        "Your session expired"
    )
    await shot(page, "login-session-expired")
    await page.fill("input#username", tenant.username)
    await page.fill("input#password", tenant.password)
    await page.click("button[type=submit]")
    await expect(page.locator("[data-testid=login-error]")).to_be_visible()
    await login(page, tenant.username, NEW_PASSWORD)
    assert page.url.endswith(f"/customers/{tenant.customer_id}"), page.url


async def test_a_first_visit_without_a_session_shows_no_expiry_notice(
    live: LiveStack, page: Page
) -> None:
    await page.goto(f"/customers/{live.a.customer_id}")
    assert "/login" in page.url and "expired" not in page.url, page.url
    await expect(page.locator("[data-testid=session-expired]")).to_have_count(0)
