"""Pasting quantities into the draft and ordering an earlier order's quantities again, over
the API: checked by the draft's rules, nothing kept on a wrong line, tenants apart."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import Tenants, bearer


async def _lines(api: httpx.AsyncClient, customer_id: int, token: str) -> list[dict[str, Any]]:
    current = (
        await api.get(f"/api/customers/{customer_id}/recommendations", headers=bearer(token))
    ).json()["current"]
    items: list[dict[str, Any]] = current["lines"]["items"]
    return items


async def test_pasted_lines_set_the_draft_or_nothing(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    buyer = bearer(tenants.buyer_a)
    lines = await _lines(api_client, a.customer_id, tenants.buyer_a)
    first, second = lines[0], lines[1]
    url = f"/api/customers/{a.customer_id}/recommendations/{a.version}/draft"
    more = first["quantity"] + first["pack_size"] * max(1, -(-first["moq"] // first["pack_size"]))
    text = f"Code\tQuantity\n{first['product_code']}\t{more:,}\n{second['product_code']} 0\n"
    pasted = await api_client.post(f"{url}/paste", headers=buyer, json={"text": text})
    assert pasted.status_code == 200, pasted.text
    assert pasted.json()["applied"] == {first["product_code"]: more, second["product_code"]: 0}
    assert pasted.json()["draft"]["edits"] == {
        first["product_code"]: more,
        second["product_code"]: 0,
    }

    # One wrong line keeps nothing: each is named by its line.
    off_pack = first["pack_size"] + 1 if first["pack_size"] > 1 else None
    bad = f"{first['product_code']} 24\nNOT-IN-IT 12\n{second['product_code']} lots\n"
    refused = await api_client.post(f"{url}/paste", headers=buyer, json={"text": bad})
    assert refused.status_code == 422, refused.text
    problems = refused.json()["problems"]
    assert [p["field"] for p in problems] == ["line 2", "line 3"]
    assert "NOT-IN-IT is not a product of this customer" in problems[0]["problem"]
    assert "'lots' is not a whole number of cartons" in problems[1]["problem"]
    if off_pack is not None:
        broken = await api_client.post(
            f"{url}/paste", headers=buyer, json={"text": f"{first['product_code']} {off_pack}"}
        )
        assert (
            broken.status_code == 409 and broken.json()["field"] == f"edits.{first['product_code']}"
        )
    kept = await api_client.get(url, headers=buyer)
    assert kept.json()["edits"] == {first["product_code"]: more, second["product_code"]: 0}

    empty = await api_client.post(f"{url}/paste", headers=buyer, json={"text": "\n \n"})
    assert empty.status_code == 422 and empty.json()["field"] == "text"
    other = await api_client.post(
        f"/api/customers/{tenants.b.customer_id}/recommendations/{tenants.b.version}/draft/paste",
        headers=buyer,
        json={"text": "X 1"},
    )
    assert other.status_code == 404


async def test_order_again_drafts_an_earlier_orders_quantities(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    buyer = bearer(tenants.buyer_a)
    url = f"/api/customers/{a.customer_id}/recommendations/{a.version}/draft"
    order = (
        await api_client.get(f"/api/customers/{a.customer_id}/orders/{a.order_id}", headers=buyer)
    ).json()
    ordered = {line["product_code"]: line["quantity"] for line in order["lines"]}
    lines = {
        line["product_code"]: line
        for line in await _lines(api_client, a.customer_id, tenants.buyer_a)
    }
    # Change one of them first: ordering again puts the order's quantity back.
    code = next(iter(ordered))
    line = lines[code]
    changed = line["quantity"] + line["pack_size"] * max(1, -(-line["moq"] // line["pack_size"]))
    await api_client.patch(url, headers=buyer, json={"edits": {code: changed}})
    again = await api_client.post(f"{url}/from-order/{a.order_id}", headers=buyer)
    assert again.status_code == 200, again.text
    body = again.json()
    # Every product of the order is still sold: one the version does not order is added.
    assert body["applied"] == ordered and body["skipped"] == []
    expected = {
        c: q for c, q in body["applied"].items() if q != (lines[c]["quantity"] if c in lines else 0)
    }
    assert body["draft"]["edits"] == expected

    theirs = await api_client.post(f"{url}/from-order/{tenants.b.order_id}", headers=buyer)
    assert theirs.status_code == 404 and theirs.json()["field"] == "order_id"


async def test_an_uploaded_csv_file_sets_the_draft_or_names_its_wrong_rows(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    a = tenants.a
    buyer = bearer(tenants.buyer_a)
    first, second = (await _lines(api_client, a.customer_id, tenants.buyer_a))[:2]
    url = f"/api/customers/{a.customer_id}/recommendations/{a.version}/draft"
    more = first["quantity"] + first["pack_size"] * max(1, -(-first["moq"] // first["pack_size"]))
    as_excel = {**buyer, "Content-Type": "text/csv"}
    good = (
        f'code,quantity\r\n"{first["product_code"]}","{more:,}"\r\n{second["product_code"]},0\r\n'
    )
    uploaded = await api_client.post(f"{url}/csv", headers=as_excel, content=good.encode())
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["applied"] == {first["product_code"]: more, second["product_code"]: 0}

    # A wrong row is named by its row in the file, and nothing of the file is kept.
    bad = f"code;quantity\n{first['product_code']};0\nNOT-SOLD;12\n"
    refused = await api_client.post(f"{url}/csv", headers=as_excel, content=bad.encode())
    assert refused.status_code == 422, refused.text
    assert [p["field"] for p in refused.json()["problems"]] == ["line 3"]
    kept = await api_client.get(url, headers=buyer)
    assert kept.json()["edits"][first["product_code"]] == more

    as_json = await api_client.post(
        f"{url}/csv", headers={**buyer, "Content-Type": "application/json"}, content=b"{}"
    )
    assert as_json.status_code == 422 and as_json.json()["field"] == "content-type"
    binary = await api_client.post(f"{url}/csv", headers=as_excel, content=bytes([0x81, 0x8D]))
    assert binary.status_code == 422 and binary.json()["field"] == "file"
    theirs = await api_client.post(
        f"/api/customers/{tenants.b.customer_id}/recommendations/{tenants.b.version}/draft/csv",
        headers=as_excel,
        content=good.encode(),
    )
    assert theirs.status_code == 404  # another tenant's version is not there for this buyer
