"""The supplier's pages in the browser: insights over a period and exceptions across
customers, each export downloaded and read back (CSV with the csv module, XLSX with
openpyxl) to the same figures the page shows."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from playwright.async_api import Page, expect

from store import channels
from store.db import unit_of_work
from tests.portal.conftest import (
    LiveStack,
    Shot,
    Tenant,
    approve_over_api,
    login,
    needs_pages,
)
from workflows.contract.cycle import CycleStatus

pytestmark = needs_pages("insights.html", "exceptions.html")


async def _download(page: Page, testid: str, into: Path) -> Path:
    """Click the export link; the file as saved under the name the server suggested."""
    async with page.expect_download() as info:
        await page.locator(f"[data-testid={testid}]").click()
    download = await info.value
    path = into / download.suggested_filename
    await download.save_as(path)
    return path


def _xlsx_rows(path: Path) -> list[list[Any]]:
    book = load_workbook(path, read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


async def _ordered(live: LiveStack, label: str) -> tuple[Tenant, int, int]:
    """A customer whose review was approved: its containers and cartons at the ERP."""
    tenant = await live.new_tenant(label)
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    await approve_over_api(live, tenant, state.recommendation.version)
    done = await live.wait_for(tenant, CycleStatus.TRACKING, CycleStatus.SUBMITTED)
    return tenant, len(done.orders), sum(o.cartons for o in done.orders)


async def test_insights_page_and_its_exports_agree(
    live: LiveStack, page: Page, shot: Shot, tmp_path: Path
) -> None:
    tenant, containers, cartons = await _ordered(live, "Insight Importers")
    assert containers >= 1

    await login(page, live.ops_username)
    await page.locator("[data-testid=insights-link]").click()
    await expect(page).to_have_url(live.url("/ops/insights"))
    row = page.locator(f"tr[data-testid=insights-row][data-customer-id='{tenant.customer_id}']")
    await expect(row.locator("[data-testid=reviews]")).to_have_text("1")
    await expect(row.locator("[data-testid=containers]")).to_have_text(str(containers))
    await expect(row.locator("[data-testid=cartons]")).to_have_text(f"{cartons:,}")
    await expect(page.locator("[data-testid=chart-cartons] svg rect")).not_to_have_count(0)
    # Its cycle synced once; the week's row of the trend counts that sync among the others.
    await expect(row.locator("[data-testid=sync-count]")).to_have_text("1")
    await expect(page.locator("[data-testid=total-erp]")).to_contain_text("syncs")
    weeks = page.locator("tr[data-testid=trend-week]")
    await expect(weeks).not_to_have_count(0)
    synced = await weeks.last.locator("[data-testid=trend-syncs]").inner_text()
    assert int(synced.replace(",", "")) >= 1
    await shot(page, "ops-insights")

    saved = await _download(page, "export-xlsx", tmp_path)
    assert saved.name.startswith("restock-insights-") and saved.suffix == ".xlsx"
    header, *rows = _xlsx_rows(saved)
    mine = next(r for r in rows if r[1] == tenant.erp_code)
    assert mine[header.index("Reviews")] == 1
    assert mine[header.index("Approved by a buyer")] == 1
    assert mine[header.index("Containers ordered")] == containers
    assert mine[header.index("Cartons ordered")] == cartons
    assert rows[-1][0] == "All customers"
    assert rows[-1][header.index("Cartons ordered")] >= cartons
    latency = mine[header.index("Approval latency median (h)")]
    assert latency is not None and latency >= 0
    assert mine[header.index("Syncs")] == 1 and mine[header.index("Failed sync attempts")] == 0
    assert mine[header.index("Sync median (s)")] > 0
    # Its only forecast is today's: the four weeks that judge it have not happened yet.
    assert mine[header.index("Forecasts checked")] == 0
    assert mine[header.index("Forecast MAE %")] is None

    csv_header, *csv_rows = _csv_rows(await _download(page, "export-csv", tmp_path))
    assert csv_header == header
    same = next(r for r in csv_rows if r[1] == tenant.erp_code)
    assert int(same[csv_header.index("Cartons ordered")]) == cartons

    # A period with nothing in it: the customer's row is there, with nothing ordered.
    await page.goto(live.url("/ops/insights?start=2020-01-01&end=2020-01-31"))
    await expect(row.locator("[data-testid=cartons]")).to_have_text("0")
    # A period that ends before it starts is refused, naming the field.
    bad = await page.goto(live.url("/ops/insights?start=2026-02-01&end=2026-01-01"))
    assert bad is not None and bad.status == 422
    await expect(page.locator("main")).to_contain_text("start")


async def test_exceptions_page_lists_a_failed_cycle_with_where_to_act(
    live: LiveStack, page: Page, shot: Shot, tmp_path: Path
) -> None:
    tenant = await live.new_tenant("Exceptional Goods")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    with live.erp_sim.faults(
        endpoints=["submit"], reject_code="E_CREDIT_LIMIT", reject_message="credit limit exceeded"
    ):
        await approve_over_api(live, tenant, state.recommendation.version)
        await live.wait_for(tenant, CycleStatus.SUBMISSION_FAILED)
    async with unit_of_work(live.sessions) as session:  # as Twilio's status callback leaves it
        sid = f"SM{uuid.uuid4().hex}"
        await channels.record_sent(session, message_sid=sid, channel="whatsapp",
            customer_id=tenant.customer_id, to_number="+4917000000001", kind="ready",
            subject="Ready", body="b", workflow_id="w", notification_id="n")  # fmt: skip
        await channels.report_status(session, sid, "failed", 63003)

    await login(page, live.ops_username)
    await page.locator("[data-testid=exceptions-link]").click()
    row = page.locator(
        f"tr[data-testid=exception][data-kind=failed_cycle][data-customer-id='{tenant.customer_id}']"
    )
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("E_CREDIT_LIMIT")
    kinds = await page.locator("tr[data-testid=exception]").evaluate_all(
        "rows => rows.map(r => r.dataset.kind)"
    )
    order = ["stocked_out", "runs_out_before_arrival", "failed_cycle", "late_shipment",
             "stuck_cycle", "undelivered_messages", "data_quality", "too_much_on_order",
             "excess"]  # fmt: skip
    assert kinds == sorted(kinds, key=order.index), kinds
    undelivered = page.locator(
        "tr[data-testid=exception][data-kind=undelivered_messages]"
        f"[data-customer-id='{tenant.customer_id}']"
    )
    await expect(undelivered).to_contain_text("1 WhatsApp message not delivered")
    await expect(undelivered).to_contain_text("63003 (number not on WhatsApp): 1")
    assert await undelivered.locator("[data-testid=act]").get_attribute("href") == (
        f"/ops/customers/{tenant.customer_id}/messages"
    )
    await shot(page, "ops-exceptions")

    header, *rows = _xlsx_rows(await _download(page, "export-xlsx", tmp_path))
    mine = [r for r in rows if r[1] == tenant.erp_code and r[2] == "cycle failed"]
    assert len(mine) == 1
    assert str(mine[0][header.index("Link")]).endswith("/ops?show=failed#customer-"
                                                      f"{tenant.customer_id}")  # fmt: skip

    await undelivered.locator("[data-testid=act]").click()
    sent = page.locator("tr[data-testid=message][data-status=failed]")
    await expect(sent).to_have_count(1)
    await expect(sent).to_contain_text("WhatsApp +4917000000001")
    await expect(sent).to_contain_text("ready: Ready")
    await expect(sent).to_contain_text("63003 (number not on WhatsApp)")
    await shot(page, "ops-messages")
    await page.go_back()

    await row.locator("[data-testid=act]").click()
    await expect(page).to_have_url(live.url(f"/ops?show=failed#customer-{tenant.customer_id}"))
    await expect(page.locator(f"#customer-{tenant.customer_id}")).to_be_visible()
