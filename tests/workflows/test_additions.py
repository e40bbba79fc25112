"""Adding a product the plan did not suggest, end to end on both databases: the API in
process, a real dev server, worker and ERP simulator.

The buyer snoozes a product and re-plans, so the waiting version does not order it; then he
drafts it back into a container (by the draft and by pasted lines), reviews exactly what
would be sent, and approves: the ERP receives it once, in the container chosen, at its list
price. A code the customer's catalogue does not hold is named and nothing reaches the ERP.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import select

from planning.packing import effective_moq
from store.models import Order
from tests.plugins.erp_sim import connected
from tests.workflows.conftest import CycleStack
from tests.workflows.test_cycle_api import Api
from tests.workflows.test_cycle_api import api as api  # the fixture
from workflows.contract.cycle import CycleStatus


async def test_a_product_the_plan_did_not_suggest_is_added_reviewed_and_lands_once(
    cycle_stack: CycleStack, api: Api
) -> None:
    assert (await api.http.post(api.url("/cycles"), headers=api.buyer)).status_code == 201
    first = await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    assert first.recommendation is not None
    new = first.recommendation.containers[0].lines[0].product_code
    snoozed = await api.http.put(
        api.url(f"/products/{new}/snooze"), headers=api.buyer, json={"reviews": 1}
    )
    assert snoozed.status_code == 200, snoozed.text
    replanned = await api.http.post(api.url("/cycles/current/refresh"), headers=api.buyer)
    assert replanned.status_code == 200, replanned.text
    state = await cycle_stack.wait_for(api.customer_id, CycleStatus.AWAITING_APPROVAL)
    rec = state.recommendation
    assert rec is not None and rec.version == first.recommendation.version + 1
    assert all(line.product_code != new for c in rec.containers for line in c.lines)
    container = rec.containers[0]
    # Room for it: the container's largest line comes out, the new product takes its cartons.
    largest = max(container.lines, key=lambda line: line.quantity)
    draft_url = api.url(f"/recommendations/{rec.version}/draft")

    # A code the catalogue does not hold is named; the draft keeps nothing of that change.
    unknown = await api.http.patch(draft_url, headers=api.buyer, json={"edits": {"NOPE-9": 10}})
    assert unknown.status_code == 409, unknown.text
    assert unknown.json()["field"] == "edits.NOPE-9"
    assert "no product NOPE-9 in the customer's catalogue" in unknown.json()["detail"]

    # Drafted by the draft's own route: checked by the planner's rules (an odd quantity is
    # refused naming the product) and kept.
    read = await api.http.get(api.url("/products/" + new), headers=api.buyer)
    assert read.status_code == 200, read.text
    pack = read.json()["pack_size"]
    minimum = effective_moq(pack, read.json()["moq"])
    quantity = largest.quantity // pack * pack
    assert quantity >= minimum
    if pack > 1:
        odd = await api.http.patch(draft_url, headers=api.buyer, json={"edits": {new: pack + 1}})
        assert odd.status_code == 409 and odd.json()["field"] == f"edits.{new}", odd.text
    drafted = await api.http.patch(
        draft_url, headers=api.buyer, json={"edits": {largest.product_code: 0, new: minimum}}
    )
    assert drafted.status_code == 200, drafted.text
    assert drafted.json()["edits"] == {largest.product_code: 0, new: minimum}

    # And by pasted lines, as from a spreadsheet.
    pasted = await api.http.post(
        f"{draft_url}/paste", headers=api.buyer, json={"text": f"{new}\t{quantity:,}\n"}
    )
    assert pasted.status_code == 200, pasted.text
    edits = pasted.json()["draft"]["edits"]
    assert edits == {largest.product_code: 0, new: quantity}

    # The review shows exactly what the ERP would get.
    choice = {"containers": [container.index], "edits": edits}
    review = await api.http.post(
        api.url(f"/recommendations/{rec.version}/review"), headers=api.buyer, json=choice
    )
    assert review.status_code == 200, review.text
    [order] = review.json()["containers"]
    assert {line["product_code"]: line["quantity"] for line in order["lines"]}[new] == quantity
    assert largest.product_code not in {line["product_code"] for line in order["lines"]}
    added = next(c for c in review.json()["changes"] if c["product_code"] == new)
    assert (added["suggested"], added["quantity"]) == (0, quantity)

    # A quantity that needs a second container is refused before anything reaches the ERP.
    overflow = await api.http.post(
        api.url("/orders"),
        headers=api.buyer,
        json={
            "version": rec.version,
            "containers": [container.index],
            "edits": {new: pack * 10**5},
        },
    )
    assert overflow.status_code == 409 and "containers" in overflow.json()["detail"], overflow.text
    assert await cycle_stack.submissions(api.erp_code) == []

    approved = await api.http.post(
        api.url("/orders"), headers=api.buyer, json={"version": rec.version, **choice}
    )
    assert approved.status_code == 201, approved.text
    await cycle_stack.wait_for(api.customer_id, CycleStatus.SUBMITTED, CycleStatus.TRACKING)
    [submission] = await cycle_stack.submissions(api.erp_code)
    async with connected(cycle_stack.erp_sim) as erp:
        at_erp = await erp.get_order(api.erp_code, submission["order_number"])
    lines = {line.product_code: line.quantity for line in at_erp.lines}
    assert lines[new] == quantity and largest.product_code not in lines
    async with cycle_stack.sessions() as session:
        stored = await session.scalar(
            select(Order).where(Order.idempotency_key == submission["idempotency_key"])
        )
    assert stored is not None
    line = next(x for x in stored.lines if x["product_code"] == new)
    # At the ERP's list price for that quantity (a break may price it below the suggestion's).
    sim = cycle_stack.erp_sim
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"X-Api-Key": sim.api_key}) as erp:
        rows = (await erp.get(f"/api/v1/customers/{api.erp_code}/prices")).json()["ROWS"]
    listed = {
        Decimal(str(r["UNIT_PRICE"]))
        for r in rows
        if r["ITEM_CODE"] == new and int(r.get("MIN_QTY") or 0) <= quantity
    }
    price = Decimal(line["unit_price"])
    assert price in listed, (price, listed)
    assert Decimal(line["value"]) == price * quantity
