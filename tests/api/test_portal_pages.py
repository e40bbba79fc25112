"""Portal pages over ASGI on both databases: login, tenancy, escaping, ops, logout.

The browser tests (tests/portal) drive the same pages in Chromium against the whole stack;
these check what the server renders, quickly and on PostgreSQL too.
"""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import Role, Snapshot, SnapshotProduct
from tests.api.conftest import PASSWORD, Tenant, Tenants, add_user, bearer

MARKUP = '<script>window.__xss=1</script><b>bold</b> & "quotes"'


async def log_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    response = await client.post(
        "/login", data={"username": username, "password": password}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


def pages_of(t: Tenant, code: str) -> list[str]:
    base = f"/customers/{t.customer_id}"
    return [
        base,
        f"{base}/recommendation",
        f"{base}/products",
        f"{base}/products/{code}",
        f"{base}/orders",
    ]


async def first_product(sessions: async_sessionmaker[AsyncSession], customer_id: int) -> str:
    async with sessions() as session:
        code = await session.scalar(
            select(SnapshotProduct.code)
            .where(SnapshotProduct.customer_id == customer_id)
            .order_by(SnapshotProduct.code)
        )
    assert code is not None
    return code


async def busiest_product(
    sessions: async_sessionmaker[AsyncSession], customer_id: int
) -> tuple[str, int]:
    """The product with the most cartons shipped in the 52 weeks before the snapshot, and
    those cartons (the days the product page's weekly shipments cover)."""
    async with sessions() as session:
        as_of = await session.scalar(
            select(Snapshot.as_of).where(Snapshot.customer_id == customer_id)
        )
        rows = (
            await session.execute(
                select(SnapshotProduct.code, SnapshotProduct.shipments).where(
                    SnapshotProduct.customer_id == customer_id
                )
            )
        ).all()
    assert as_of is not None and rows
    end = as_of.toordinal()
    shipped = {
        code: sum(c for day, c in shipments or [] if 1 <= end - day <= 7 * 52)
        for code, shipments in rows
    }
    code = max(shipped, key=lambda c: (shipped[c], c))
    return code, shipped[code]


async def test_login_lands_each_role_on_its_start_page(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert await log_in(api_client, "buyer-a") == f"/customers/{tenants.a.customer_id}"
    assert "restock_session" in api_client.cookies and "restock_csrf" in api_client.cookies
    api_client.cookies.clear()
    assert await log_in(api_client, "ops") == "/ops"


async def test_wrong_password_and_missing_fields_re_render_the_form_with_a_message(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    wrong = await api_client.post("/login", data={"username": "buyer-a", "password": "nope"})
    assert wrong.status_code == 401
    assert 'data-testid="login-error"' in wrong.text and "Wrong username or password" in wrong.text
    assert 'value="buyer-a"' in wrong.text  # the username is kept, the password is not
    missing = await api_client.post("/login", data={"username": "buyer-a"})
    assert missing.status_code == 422 and "Enter your password" in missing.text
    assert "restock_session" not in api_client.cookies


async def test_repeated_failures_are_throttled_with_a_readable_message(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    statuses = []
    for _ in range(30):
        response = await api_client.post("/login", data={"username": "buyer-b", "password": "x"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429, statuses
    assert "Too many failed logins" in response.text and "login-error" in response.text
    assert int(response.headers["retry-after"]) >= 1


async def test_login_follows_next_only_within_the_site(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    orders = f"/customers/{tenants.a.customer_id}/orders"
    for target, expected in (
        (orders, orders),
        ("//evil.example/x", f"/customers/{tenants.a.customer_id}"),
        ("https://evil.example/", f"/customers/{tenants.a.customer_id}"),
        ("/\t/evil.example/", f"/customers/{tenants.a.customer_id}"),  # browsers drop the tab
        ("/\\evil.example/", f"/customers/{tenants.a.customer_id}"),
        ("/x\r\nSet-Cookie: a=b", f"/customers/{tenants.a.customer_id}"),
    ):
        api_client.cookies.clear()
        response = await api_client.post(
            "/login", data={"username": "buyer-a", "password": PASSWORD, "next": target}
        )
        assert response.headers["location"] == expected, target


async def test_a_page_without_a_session_redirects_to_login_with_next(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    response = await api_client.get(f"/customers/{tenants.a.customer_id}/orders?page=2")
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/login?next=%2Fcustomers%2F{tenants.a.customer_id}%2Forders%3Fpage%3D2"
    )
    # The JSON API keeps answering JSON.
    api = await api_client.get(f"/api/customers/{tenants.a.customer_id}")
    assert api.status_code == 401 and api.json()["error"] == "unauthorized"


async def test_each_customer_page_renders_its_own_data(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    code = await first_product(sessions, tenants.a.customer_id)
    await log_in(api_client, "buyer-a")
    for url in pages_of(tenants.a, code):
        response = await api_client.get(url)
        assert response.status_code == 200, (url, response.text[:500])
        assert tenants.a.erp_code in response.text, url
    recommendation = await api_client.get(f"/customers/{tenants.a.customer_id}/recommendation")
    assert 'data-testid="container"' in recommendation.text
    assert re.search(r'data-testid="line" data-code="[^"]+" data-pack="\d+"', recommendation.text)
    product = await api_client.get(f"/customers/{tenants.a.customer_id}/products/{code}")
    assert product.text.count("<svg") == 2
    orders = await api_client.get(f"/customers/{tenants.a.customer_id}/orders")
    assert f'data-order-id="{tenants.a.order_id}"' in orders.text


async def test_another_customers_pages_are_the_404_page_without_their_data(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    code_b = await first_product(sessions, tenants.b.customer_id)
    await log_in(api_client, "buyer-a")
    for url in pages_of(tenants.b, code_b):
        response = await api_client.get(url)
        assert response.status_code == 404, url
        assert 'data-testid="not-found"' in response.text
        assert tenants.b.erp_code not in response.text, url
    # B's product code under A's own customer id is not found either (unless A has it too).
    async with sessions() as session:
        shared = await session.scalar(
            select(SnapshotProduct.id).where(
                SnapshotProduct.customer_id == tenants.a.customer_id, SnapshotProduct.code == code_b
            )
        )
    if shared is None:
        response = await api_client.get(f"/customers/{tenants.a.customer_id}/products/{code_b}")
        assert response.status_code == 404
    ops_page = await api_client.get("/ops")
    assert ops_page.status_code == 403 and "operations staff only" in ops_page.text


async def test_markup_in_a_product_name_renders_as_text(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    code = await first_product(sessions, tenants.a.customer_id)
    async with sessions() as session, session.begin():
        await session.execute(
            update(SnapshotProduct)
            .where(
                SnapshotProduct.customer_id == tenants.a.customer_id, SnapshotProduct.code == code
            )
            .values(name=MARKUP)
        )
    await log_in(api_client, "buyer-a")
    base = f"/customers/{tenants.a.customer_id}"
    for url in (f"{base}/products?q={code}", f"{base}/products/{code}"):
        response = await api_client.get(url)
        assert response.status_code == 200, url
        assert "<script>window.__xss" not in response.text and "<b>bold</b>" not in response.text
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in response.text


async def test_products_page_searches_filters_and_rejects_bad_input_by_name(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    code = await first_product(sessions, tenants.a.customer_id)
    await log_in(api_client, "buyer-a")
    base = f"/customers/{tenants.a.customer_id}/products"
    found = await api_client.get(base, params={"q": code})
    assert re.findall(r'data-testid="product" data-code="([^"]+)"', found.text) == [code]
    at_risk = await api_client.get(base, params={"status": "at_risk"})
    statuses = set(
        re.findall(r'data-testid="product" data-code="[^"]+" data-status="(\w+)"', at_risk.text)
    )
    assert statuses <= {"at_risk"}
    bad = await api_client.get(base, params={"sort": "price"})
    assert bad.status_code == 422 and "sort" in bad.text


async def test_ops_console_lists_every_customer_and_links_to_temporal(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    await log_in(api_client, "ops")
    page = await api_client.get("/ops")
    assert page.status_code == 200
    rows = re.findall(
        r'data-testid="cycle-row" data-customer-id="(\d+)" data-status="(\w+)"', page.text
    )
    assert {int(c) for c, _ in rows} >= {tenants.a.customer_id, tenants.b.customer_id}
    assert f"/workflows/reorder-cycle-{tenants.a.customer_id}" in page.text
    waiting = await api_client.get("/ops?show=waiting")
    assert all(
        s == "awaiting_approval"
        for _, s in re.findall(
            r'data-testid="cycle-row" data-customer-id="(\d+)" data-status="(\w+)"', waiting.text
        )
    )
    bad = await api_client.get("/ops?show=everything")
    assert bad.status_code == 422 and "show" in bad.text
    settings = await api_client.get(f"/ops/customers/{tenants.a.customer_id}/settings")
    assert settings.status_code == 200
    for field in ("target_soh_weeks", "lead_time_weeks", "container_capacity_cartons"):
        assert f'name="{field}"' in settings.text


async def test_logout_needs_the_forms_csrf_token_and_revokes_the_session(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    await log_in(api_client, "buyer-a")
    dashboard = f"/customers/{tenants.a.customer_id}"
    page = await api_client.get(dashboard)
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    refused = await api_client.post("/logout", data={"csrf": "forged"})
    assert refused.status_code == 403
    assert (await api_client.get(dashboard)).status_code == 200  # still logged in
    token = api_client.cookies["restock_session"]
    done = await api_client.post("/logout", data={"csrf": match.group(1)})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    # The old token no longer works, even if a client kept it.
    api_client.cookies.set("restock_session", token)
    assert (await api_client.get(dashboard)).status_code == 303


async def test_product_detail_api_has_history_and_projection(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    code, shipped = await busiest_product(sessions, tenants.a.customer_id)
    url = f"/api/customers/{tenants.a.customer_id}/products/{code}"
    response = await api_client.get(url, headers=bearer(tenants.buyer_a))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == code and len(body["weekly_shipments"]) == 52
    assert len(body["projected_stock"]) == len(body["forecast"]) + 1
    assert all(point["cartons"] >= 0 for point in body["projected_stock"])
    assert shipped > 0 and sum(w["cartons"] for w in body["weekly_shipments"]) == shipped
    other = await api_client.get(url, headers=bearer(tenants.buyer_b))
    assert other.status_code == 404
    missing = await api_client.get(f"{url}-nope", headers=bearer(tenants.buyer_a))
    assert missing.status_code == 404 and missing.json()["field"] == "code"


@pytest.mark.parametrize("role", [Role.OPS])
async def test_settings_page_is_ops_only(
    api_client: httpx.AsyncClient,
    tenants: Tenants,
    sessions: async_sessionmaker[AsyncSession],
    role: Role,
) -> None:
    await add_user(sessions, "ops-2", role)
    await log_in(api_client, "buyer-a")
    own = await api_client.get(f"/ops/customers/{tenants.a.customer_id}/settings")
    assert own.status_code == 403
    api_client.cookies.clear()
    await log_in(api_client, "ops-2")
    assert (
        await api_client.get(f"/ops/customers/{tenants.b.customer_id}/settings")
    ).status_code == 200


async def test_orders_can_be_listed_without_their_lines(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    url = f"/api/customers/{tenants.a.customer_id}/orders"
    full = (await api_client.get(url, headers=bearer(tenants.buyer_a))).json()
    light = (
        await api_client.get(url, params={"lines": "false"}, headers=bearer(tenants.buyer_a))
    ).json()
    assert any(o["lines"] for o in full["items"])
    assert all(o["lines"] == [] for o in light["items"])
    strip = [{**o, "lines": []} for o in full["items"]]
    assert light["items"] == strip and light["total"] == full["total"]


async def test_products_pages_link_to_each_other_keeping_the_filters(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    await log_in(api_client, "buyer-b")  # about 400 products: several pages of 50
    base = f"/customers/{tenants.b.customer_id}/products"
    first = await api_client.get(base, params={"q": "-", "sort": "name"})  # every code has "-"
    assert first.status_code == 200
    links = re.findall(r'<a href="\?([^"]+)">Next</a>', first.text)
    assert links == ["q=-&amp;status=&amp;risk=&amp;sort=name&amp;order=asc&amp;page=2"]
    second = await api_client.get(f"{base}?{links[0].replace('&amp;', '&')}")
    assert second.status_code == 200 and "page 2 of" in second.text
    assert ">Previous</a>" in second.text


async def test_messages_page_is_ops_only_and_knows_its_customers(
    api_client: httpx.AsyncClient, tenants: Tenants, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_user(sessions, "ops-messages", Role.OPS)
    await log_in(api_client, "buyer-a")
    own = await api_client.get(f"/ops/customers/{tenants.a.customer_id}/messages")
    assert own.status_code == 403
    api_client.cookies.clear()
    await log_in(api_client, "ops-messages")
    page = await api_client.get(f"/ops/customers/{tenants.b.customer_id}/messages")
    assert page.status_code == 200
    assert 'data-testid="no-messages"' in page.text  # nothing sent to it yet
    missing = await api_client.get("/ops/customers/999999/messages")
    assert missing.status_code == 404


async def test_the_account_page_shows_only_the_signed_in_users_own_account(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    anonymous = await api_client.get("/account")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Faccount"
    await log_in(api_client, "buyer-a")
    page = await api_client.get("/account")
    assert page.status_code == 200
    assert "buyer-a" in page.text and "buyer-b" not in page.text
    assert 'data-testid="notify-by-form"' in page.text
    assert 'href="/account"' in page.text  # the header's link to it
