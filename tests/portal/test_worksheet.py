"""The recommendation as a worksheet in the browser: drafts kept on the server across
sessions, sorting and searching thousands of lines, exports equal to the page."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import openpyxl
from playwright.async_api import Page, expect

from tests.portal.conftest import (
    ContextFactory,
    LiveStack,
    Shot,
    eventually,
    login,
    needs_pages,
    review_and_approve,
)
from tests.portal.test_recommendation import editable_line
from workflows.contract.cycle import CycleStatus

pytestmark = needs_pages("recommendation.html")

ROW = "tr[data-testid=line]"


async def page_rows(page: Page) -> list[dict[str, str]]:
    """Each worksheet row's figures as the page shows them (text of each data-field cell)."""
    rows: list[dict[str, str]] = await page.locator(ROW).evaluate_all(
        """rows => rows.map(r => {
            const out = {code: r.dataset.code};
            for (const td of r.querySelectorAll('td[data-field]')) {
                const input = td.querySelector('input');
                const first = input ? input.value : (td.childNodes[0]?.textContent || '');
                out[td.dataset.field] = first.trim();
            }
            return out;
        })"""
    )
    return rows


def number(text: str) -> float | None:
    cleaned = text.replace(",", "").strip()
    return None if cleaned in ("", "\u2013") else float(cleaned)


async def test_a_draft_made_in_one_session_is_approved_from_another(
    live: LiveStack, page: Page, new_context: ContextFactory, shot: Shot
) -> None:
    tenant = await live.new_tenant("Draft Foods")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    line = editable_line(state)
    edited = line.quantity - line.pack_size
    await login(page, tenant.username)
    await page.goto(f"/customers/{tenant.customer_id}/recommendation")
    row = page.locator(f"{ROW}[data-code='{line.product_code}']")
    await row.locator("[data-testid=qty]").fill(str(edited))
    await expect(page.locator("[data-testid=draft-status]")).to_have_text("Edits saved.")
    await expect(row.locator("[data-testid=reset-line]")).to_be_visible()

    # Another line edited, then reset: it leaves the draft.
    totals: dict[str, int] = {}
    for c in state.recommendation.containers:
        for ln in c.lines:
            totals[ln.product_code] = totals.get(ln.product_code, 0) + ln.quantity
    other = next(
        ln
        for c in state.recommendation.containers
        for ln in c.lines
        if ln.product_code != line.product_code
    )
    suggested = totals[other.product_code]
    other_row = page.locator(f"{ROW}[data-code='{other.product_code}']")
    await other_row.locator("[data-testid=qty]").fill(str(suggested + other.pack_size))
    await other_row.locator("[data-testid=reset-line]").click()
    await expect(other_row.locator("[data-testid=qty]")).to_have_value(str(suggested))
    await expect(other_row.locator("[data-testid=reset-line]")).to_be_hidden()

    async def draft() -> dict[str, int]:
        answer = await page.context.request.get(
            f"/api/customers/{tenant.customer_id}/recommendations/"
            f"{state.recommendation.version}/draft"  # type: ignore[union-attr]
        )
        assert answer.ok, await answer.text()
        edits: dict[str, int] = (await answer.json())["edits"]
        return edits

    async def only_the_first_edit_saved() -> bool:
        return await draft() == {line.product_code: edited}

    await eventually(only_the_first_edit_saved, "the draft holds exactly the kept edit")

    # A second session (another browser, same buyer) sees the draft and approves it.
    second = await (await new_context()).new_page()
    await login(second, tenant.username)
    await second.goto(f"/customers/{tenant.customer_id}/recommendation")
    row2 = second.locator(f"{ROW}[data-code='{line.product_code}']")
    await expect(row2.locator("[data-testid=qty]")).to_have_value(str(edited))
    await expect(row2).to_have_class(lambda_edited())
    await second.locator("[data-testid=show]").select_option("edited")
    await second.locator("[data-testid=apply-filters]").click()
    await expect(second.locator(ROW)).to_have_count(1)
    await shot(second, "worksheet-draft-in-second-session")
    await review_and_approve(second)
    await expect(second.locator("[data-testid=order]")).to_have_count(
        len(state.recommendation.containers)
    )
    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    submissions = await live.submissions(tenant.erp_code)
    assert len(submissions) == len(submitted.orders)
    ordered = 0
    for s in submissions:
        doc = await live.erp_order(tenant.erp_code, s["order_number"])
        ordered += sum(
            ln["ORDER_QTY"] for ln in doc["LINES"] if ln["ITEM_CODE"] == line.product_code
        )
    assert ordered == edited


def lambda_edited() -> Any:
    import re

    return re.compile(r"\bedited\b")


async def test_sort_search_and_export_the_4000_product_recommendation(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Big Worksheet Foods", n_products=4_000, monthly_cartons=2e6)
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    lines: dict[str, int] = {}
    for c in state.recommendation.containers:
        for ln in c.lines:
            lines[ln.product_code] = lines.get(ln.product_code, 0) + ln.quantity
    assert len(lines) > 1_000, f"only {len(lines)} lines"
    await login(page, tenant.username)
    base = f"/customers/{tenant.customer_id}/recommendation"

    # Sorted by cover now, ascending then descending: the page is in order, 100 rows.
    await page.goto(base)
    await expect(page.locator("[data-testid=recommendation-totals]")).to_contain_text(
        f"{len(lines):,} lines"
    )
    await page.locator("[data-testid=sort-cover_now]").click()
    await expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Cover with orders")
    rows = await page_rows(page)
    assert len(rows) == 100
    covers = [number(r["cover_now"]) for r in rows]
    known = [c for c in covers if c is not None]
    assert known == sorted(known) and known, covers
    await shot(page, "worksheet-4000-sorted-by-cover")
    await page.locator("[data-testid=sort-cover_now]").click()
    await expect(page.locator("th[aria-sort=descending]")).to_contain_text("Cover with orders")
    down = [number(r["cover_now"]) for r in await page_rows(page)]
    known_down = [c for c in down if c is not None]
    assert known_down == sorted(known_down, reverse=True) and known_down[0] >= known[-1]

    # Search by a code from the middle of the list finds it (and only codes or names with it);
    # its row suggests the product's quantity over every container it was packed into.
    code = sorted(lines)[len(lines) // 2]
    await page.locator("[data-testid=search]").fill(code)
    await page.locator("[data-testid=apply-filters]").click()
    found = await page_rows(page)
    assert [r["code"] for r in found] == [code], found
    assert number(found[0]["suggested"]) == lines[code]
    await shot(page, "worksheet-4000-search")

    # The export of a sorted, filtered view equals the page's rows, in order.
    await page.goto(f"{base}?sort=quantity&desc=true&container=1")
    shown = await page_rows(page)
    assert 0 < len(shown) <= 100
    csv_link = await page.locator("[data-testid=export-csv]").get_attribute("href")
    xlsx_link = await page.locator("[data-testid=export-xlsx]").get_attribute("href")
    assert csv_link and xlsx_link and "container=1" in xlsx_link and "desc=true" in xlsx_link
    xlsx = await page.context.request.get(xlsx_link)
    assert xlsx.ok, await xlsx.text()
    book = openpyxl.load_workbook(io.BytesIO(await xlsx.body()), read_only=True)
    sheet = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    header, body = list(sheet[0]), sheet[1:]
    total = await page.locator("[data-testid=selection-totals]").inner_text()
    assert total.startswith(f"{len(body):,} of"), total
    exported = [dict(zip(header, values, strict=True)) for values in body][: len(shown)]
    assert [e["Product"] for e in exported] == [r["code"] for r in shown]
    for e, r in zip(exported, shown, strict=True):
        assert e["Quantity"] == number(r["quantity"]), (e, r)
        assert e["Suggested"] == number(r["suggested"]), (e, r)
        assert (e["Pull-forward"] or 0) == (number(r["pull_forward"]) or 0), (e, r)
        assert str(e["Containers"]) == r["containers"], (e, r)
        assert e["On hand"] == number(r["on_hand"]), (e, r)
    text = (await (await page.context.request.get(csv_link)).body()).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == header
    assert [row[0] for row in parsed[1:]] == [e[0] for e in body]


async def test_without_pull_forward_drafts_each_line_down_to_its_need(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    # Generated data depends on the customer's code and the day: take the first customer
    # whose recommendation pulls cartons forward to fill its last container.
    for seed in range(5, 13):
        tenant = await live.new_tenant("Pull Forward Foods", seed=seed, last_container="top_up")
        await live.awaiting_approval(tenant)
        await login(page, tenant.username)
        await page.goto(f"/customers/{tenant.customer_id}/recommendation?show=pulled_forward")
        pulled = await page_rows(page)
        if pulled:
            break
    assert pulled, "no customer's recommendation pulls cartons forward"
    await page.locator("[data-testid=without-pull-forward]").click()
    await page.wait_for_url("**show=edited**")
    edited = {r["code"]: r for r in await page_rows(page)}
    for row in pulled:
        suggested, forward = number(row["suggested"]), number(row["pull_forward"])
        assert suggested is not None and forward
        quantity = number(edited[row["code"]]["quantity"]) if row["code"] in edited else suggested
        assert quantity is not None and suggested - forward <= quantity < suggested, row
    await shot(page, "worksheet-without-pull-forward")
    await review_and_approve(page)
    # The review's orders carry exactly the drafted quantities: the total of the worksheet.
    version = int(await page.locator("#recommendation").get_attribute("data-version") or 0)
    sheet = await page.context.request.get(
        f"/api/customers/{tenant.customer_id}/recommendations/{version}/worksheet"
    )
    totals = (await sheet.json())["recommendation_totals"]
    assert totals["quantity"] < totals["suggested"], totals
    submitted = await live.wait_for(tenant, CycleStatus.SUBMITTED)
    assert sum(o.cartons for o in submitted.orders) == totals["quantity"]
    submissions = await live.submissions(tenant.erp_code)
    assert len(submissions) == len(submitted.orders)


def euros(text: str) -> Decimal:
    cleaned = text.strip()
    assert cleaned.startswith("€"), cleaned
    return Decimal(cleaned[1:].replace(",", ""))


async def test_values_are_shown_and_add_up_on_the_page_and_in_the_export(
    live: LiveStack, page: Page, shot: Shot
) -> None:
    tenant = await live.new_tenant("Priced Foods")
    state = await live.awaiting_approval(tenant)
    assert state.recommendation is not None
    await login(page, tenant.username)
    # The dashboard's call to action says what the waiting recommendation is worth ...
    on_dashboard = euros(
        (await page.locator("[data-testid=recommendation-value]").inner_text()).split(" ", 1)[1]
    )
    base = f"/customers/{tenant.customer_id}/recommendation"
    await page.goto(base)
    total = euros(
        (await page.locator("[data-testid=recommendation-value]").inner_text()).split(" ", 1)[1]
    )
    assert on_dashboard == total  # ... the same as the recommendation's page
    containers = [
        euros(t) for t in await page.locator("[data-testid=container-value]").all_inner_texts()
    ]
    assert len(containers) == len(state.recommendation.containers)
    assert sum(containers) == total > 0  # exact: cents, no float
    rows = [euros(t) for t in await page.locator(f"{ROW} [data-field=value]").all_inner_texts()]
    footer = euros(await page.locator("[data-testid=page-totals] [data-field=value]").inner_text())
    assert sum(rows) == footer == total  # every line priced, all on one page
    await shot(page, "recommendation-values")

    xlsx_link = await page.locator("[data-testid=export-xlsx]").get_attribute("href")
    assert xlsx_link
    book = openpyxl.load_workbook(
        io.BytesIO(await (await page.context.request.get(xlsx_link)).body()), read_only=True
    )
    sheet = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    header, body = list(sheet[0]), sheet[1:]
    column = header.index("Value (suggested)")
    assert sum(Decimal(str(r[column])) for r in body) == total
    detail = await page.context.request.get(f"/api/customers/{tenant.customer_id}/recommendations")
    current = (await detail.json())["current"]
    assert Decimal(current["totals"]["value"]) == total and current["totals"]["currency"] == "EUR"
