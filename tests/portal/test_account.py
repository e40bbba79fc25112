"""A customer user's own account page: who they are, and how Restock tells them, chosen in
the browser (PUT /api/me/notify-by, audited) and kept across a reload; ops see their account
without the choice (they are told by e-mail)."""

from __future__ import annotations

from playwright.async_api import Page, expect
from sqlalchemy import select

from services.accounts import ApprovalGrant, set_approval_grant
from store import accounts as users_repo
from store.db import unit_of_work
from store.models import AuditEntry
from tests.portal.conftest import LiveStack, Shot, login


async def test_a_buyer_chooses_how_he_is_told_and_it_is_kept(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Account Foods")
    async with unit_of_work(live.sessions) as session:
        user = await users_repo.find_user(session, tenant.username)
        assert user is not None
        await set_approval_grant(
            session, user, ApprovalGrant(email="buyer@account.example"), actor="test"
        )
        user.phone = "+4915112345678"

    await login(page, tenant.username)
    await page.get_by_test_id("account-link").click()
    await expect(page).to_have_url(live.url("/account"))
    await expect(page.get_by_test_id("account-email")).to_have_text("buyer@account.example")
    await expect(page.get_by_test_id("account-phone")).to_have_text("+4915112345678")
    await expect(page.get_by_test_id("notify-by-both")).to_be_checked()
    # The live stack has no Twilio account: the page says so, and that e-mail stands in.
    await expect(page.get_by_test_id("whatsapp-unreachable")).to_contain_text(
        "your supplier has not set up WhatsApp"
    )

    await page.get_by_test_id("notify-by-email").check()
    await page.get_by_test_id("save-notify-by").click()
    await expect(page.get_by_test_id("notify-by-saved")).to_be_visible()
    await shot(page, "account")
    await page.reload()
    await expect(page.get_by_test_id("notify-by-email")).to_be_checked()

    async with live.sessions() as session:
        kept = await users_repo.find_user(session, tenant.username)
        assert kept is not None and kept.notify_by == "email"
        audited = list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "user.notify_by_set",
                    AuditEntry.target_id == tenant.username,
                )
            )
        )
    assert [(e.actor, e.details) for e in audited] == [
        (f"user:{tenant.username}", {"before": "both", "after": "email"})
    ]


async def test_ops_see_their_account_without_a_channel_choice(live: LiveStack, page: Page) -> None:
    await login(page, live.ops_username)
    await page.goto("/account")
    await expect(page.get_by_test_id("account-role")).to_have_text("ops")
    await expect(page.get_by_test_id("notify-by-form")).to_have_count(0)
