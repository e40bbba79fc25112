"""Pagination and the declared field mapping, including an integrator's own mapping file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from erp.client import ErpClient, build_http_client
from erp.mapping import DEFAULT_MAPPING_FILE, ErpMapping, MappingError
from erp.simulator.generator import DEMO_SMALL
from tests.plugins.erp_sim import ErpSim


def default_mapping_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_MAPPING_FILE.read_text())
    return data


async def test_raw_pages_follow_the_envelope(erp_sim: ErpSim) -> None:
    headers = {"X-Api-Key": erp_sim.api_key}
    url = f"/api/v1/customers/{DEMO_SMALL}/items"
    async with httpx.AsyncClient(base_url=erp_sim.base_url, headers=headers) as http:
        first = (await http.get(url, params={"PAGE_SIZE": 15})).json()
        last = (await http.get(url, params={"PAGE_SIZE": 15, "PAGE_NO": 3})).json()
        beyond = (await http.get(url, params={"PAGE_SIZE": 15, "PAGE_NO": 4})).json()
        too_big = await http.get(url, params={"PAGE_SIZE": 100_000})
    assert (first["TOTAL_PAGES"], first["TOTAL_ROWS"], len(first["ROWS"])) == (3, 40, 15)
    assert len(last["ROWS"]) == 10 and beyond["ROWS"] == []
    assert too_big.status_code == 400 and too_big.json()["ERR_CD"] == "E_BAD_REQUEST"


async def test_small_pages_give_the_same_rows(erp_sim: ErpSim, tmp_path: Path) -> None:
    data = default_mapping_data()
    data["pagination"]["page_size"] = 25
    data["pagination"]["concurrency"] = 3
    path = tmp_path / "small-pages.yaml"
    path.write_text(yaml.safe_dump(data))
    requests: list[httpx.Request] = []

    async def count(request: httpx.Request) -> None:
        requests.append(request)

    settings = erp_sim.settings(erp_mapping_file=path)
    async with httpx.AsyncClient(event_hooks={"request": [count]}) as http:
        paged = ErpClient.from_settings(settings, http)
        small_pages = await paged.list_shipments(DEMO_SMALL)
    async with build_http_client(settings) as http:
        whole = await ErpClient(
            http, base_url=erp_sim.base_url, api_key=erp_sim.api_key
        ).list_shipments(DEMO_SMALL)
    assert small_pages == whole
    assert len(requests) == -(-len(whole) // 25) > 3
    assert {r.url.params["PAGE_NO"] for r in requests} == {
        str(n) for n in range(1, len(requests) + 1)
    }


async def test_a_custom_mapping_file_changes_the_transformation(
    erp_sim: ErpSim, tmp_path: Path
) -> None:
    data = default_mapping_data()
    fields = data["entities"]["product"]["fields"]
    fields["name"] = "ITEM_CODE"  # this ERP has no description: use the code
    fields["carton_weight_kg"] = {"field": "GROSS_WT_G", "type": "float", "optional": True}
    fields["stock_on_hand"] = {"field": "SOH_QTY", "type": "int", "scale": 2}
    path = tmp_path / "integrator.yaml"
    path.write_text(yaml.safe_dump(data))
    settings = erp_sim.settings(erp_mapping_file=path)
    async with build_http_client(settings) as http:
        custom = await ErpClient.from_settings(settings, http).list_products(DEMO_SMALL)
        default = await ErpClient(
            http, base_url=erp_sim.base_url, api_key=erp_sim.api_key
        ).list_products(DEMO_SMALL)
    for mine, theirs in zip(custom, default, strict=True):
        assert mine.name == mine.code != theirs.name
        assert mine.carton_weight_kg == pytest.approx((theirs.carton_weight_kg or 0) * 1000)
        assert mine.stock_on_hand == 2 * (theirs.stock_on_hand or 0)


def test_dates_and_codes_are_converted() -> None:
    mapping = ErpMapping.default()
    order = mapping.entity("order").convert(
        {
            "ORDER_NO": "SO1",
            "ORDER_STAT": "INTR",
            "ORDER_DT": "22.11.2026",
            "ETA_DT": "03.01.2027",
            "DLV_DT": None,
            "LINES": [{"LINE_NO": 1, "ITEM_CODE": 4711, "ORDER_QTY": "12"}],
        }
    )
    assert str(order["ordered_on"]) == "2026-11-22" and str(order["eta"]) == "2027-01-03"
    assert order["status"] == "in_transit"
    assert order["lines"] == [{"product_code": "4711", "quantity": 12}]
    shipment = mapping.entity("shipment").convert(
        {"ITEM_CODE": "A", "SHIP_DT": "20261122", "SHIP_QTY": 5}
    )
    assert str(shipment["ship_date"]) == "2026-11-22"


def test_a_broken_mapping_file_names_the_problem(tmp_path: Path) -> None:
    data = default_mapping_data()
    data["entities"]["shipment"]["fields"]["ship_date"] = {"field": "SHIP_DT", "type": "date"}
    del data["entities"]["order_line"]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(MappingError) as caught:
        ErpMapping.from_file(path)
    message = str(caught.value)
    assert "SHIP_DT: a date field needs a format" in message
    assert str(path) in message
    with pytest.raises(MappingError, match="cannot read"):
        ErpMapping.from_file(tmp_path / "missing.yaml")
