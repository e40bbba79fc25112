"""The worksheet and the draft over HTTP, on both databases: sorting, searching, filters and
totals agree with the lines; a refused draft change keeps what was saved; tenants stay apart."""

from __future__ import annotations

import csv
import io

import httpx

from tests.api.conftest import Tenants, bearer


def _base(customer_id: int, version: int) -> str:
    return f"/api/customers/{customer_id}/recommendations/{version}"


async def test_sort_search_filter_and_totals(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, auth = tenants.a, bearer(tenants.buyer_a)
    url = f"{_base(a.customer_id, a.version)}/worksheet"
    everything = (await api_client.get(url, params={"page_size": 200}, headers=auth)).json()
    rows = everything["rows"]
    assert everything["total"] == len(rows) == everything["recommendation_totals"]["lines"]
    assert everything["selected_totals"]["quantity"] == sum(r["quantity"] for r in rows)
    assert everything["recommendation_totals"]["pull_forward"] == sum(
        r["pull_forward"] for r in rows
    )

    by_quantity = await api_client.get(
        url, params={"sort": "quantity", "desc": "true", "page_size": 3}, headers=auth
    )
    top = by_quantity.json()
    assert [r["quantity"] for r in top["rows"]] == sorted(
        (r["quantity"] for r in rows), reverse=True
    )[:3]
    assert top["page_totals"]["quantity"] == sum(r["quantity"] for r in top["rows"])
    assert top["selected_totals"] == everything["selected_totals"]

    code = rows[-1]["product_code"]
    found = (await api_client.get(url, params={"q": code.lower()}, headers=auth)).json()
    assert code in [r["product_code"] for r in found["rows"]]
    assert all(code.lower() in (r["product_code"] + r["name"]).lower() for r in found["rows"])

    one = (await api_client.get(url, params={"container": 1}, headers=auth)).json()
    assert one["rows"] and all(1 in r["containers"] for r in one["rows"])
    urgent = (await api_client.get(url, params={"show": "urgent"}, headers=auth)).json()
    assert urgent["total"] == sum(1 for r in rows if r["urgent"])

    bad = await api_client.get(url, params={"sort": "price"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["field"] == "sort"

    exported = await api_client.get(
        f"{url}.csv", params={"sort": "quantity", "desc": "true"}, headers=auth
    )
    assert exported.status_code == 200
    assert exported.headers["content-disposition"].endswith(f'-v{a.version}.csv"')
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][0] == "Product" and len(table) == len(rows) + 1
    assert [int(r[table[0].index("Quantity")]) for r in table[1:4]] == [
        r["quantity"] for r in top["rows"]
    ]


async def test_a_draft_is_checked_kept_and_private(
    api_client: httpx.AsyncClient, tenants: Tenants
) -> None:
    a, auth = tenants.a, bearer(tenants.buyer_a)
    base = _base(a.customer_id, a.version)
    rows = (await api_client.get(f"{base}/worksheet", headers=auth)).json()["rows"]
    line = next(r for r in rows if r["pack_size"] > 1)
    edited = line["suggested"] + line["pack_size"]

    saved = await api_client.patch(
        f"{base}/draft", json={"edits": {line["product_code"]: edited}}, headers=auth
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["edits"] == {line["product_code"]: edited}

    refused = await api_client.patch(
        f"{base}/draft",
        json={"edits": {line["product_code"]: edited + 1, "NO-SUCH": 5}},
        headers=auth,
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["field"] in {f"edits.{line['product_code']}", "edits.NO-SUCH"}
    kept = (await api_client.get(f"{base}/draft", headers=auth)).json()
    assert kept["edits"] == {line["product_code"]: edited}, "a refused change loses nothing"

    sheet = (
        await api_client.get(f"{base}/worksheet", params={"show": "edited"}, headers=auth)
    ).json()
    assert [(r["product_code"], r["quantity"], r["edited"]) for r in sheet["rows"]] == [
        (line["product_code"], edited, True)
    ]

    other = await api_client.get(f"{base}/draft", headers=bearer(tenants.buyer_b))
    assert other.status_code == 404
    sneaky = await api_client.patch(
        f"{base}/draft",
        json={"edits": {line["product_code"]: None}},
        headers=bearer(tenants.buyer_b),
    )
    assert sneaky.status_code == 404

    back = await api_client.patch(
        f"{base}/draft", json={"edits": {line["product_code"]: line["suggested"]}}, headers=auth
    )
    assert back.json()["edits"] == {}, "the suggested quantity is no edit"
    await api_client.patch(
        f"{base}/draft", json={"edits": {line["product_code"]: edited}}, headers=auth
    )
    cleared = await api_client.delete(f"{base}/draft", headers=auth)
    assert cleared.status_code == 200 and cleared.json()["edits"] == {}
