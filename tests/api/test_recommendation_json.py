"""The recommendations routes splice stored JSON text into their answer; the answer must be
exactly what the models would have produced (key order aside)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.recommendation_json import RenderedVersions, splice
from services.views.recommendations import RecommendationDetail, current_and_versions
from store.db import unit_of_work
from store.models import RecommendationStatus
from store.pagination import PageRequest
from store.recommendations import decide
from tests.api.conftest import Tenant, Tenants, bearer


@pytest.mark.parametrize(
    "params", [{}, {"page": 2, "page_size": 7}, {"urgent": "true", "page_size": 3}]
)
async def test_spliced_json_equals_the_models_json(
    api_client: httpx.AsyncClient,
    tenants: Tenants,
    sessions: async_sessionmaker[AsyncSession],
    params: dict[str, object],
) -> None:
    for token, tenant in ((tenants.buyer_a, tenants.a), (tenants.buyer_b, tenants.b)):
        base = f"/api/customers/{tenant.customer_id}/recommendations"
        response = await api_client.get(base, params=params, headers=bearer(token))
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        page = PageRequest(int(params.get("page", 1)), int(params.get("page_size", 50)))
        urgent = params.get("urgent") == "true"
        async with sessions() as session:
            model = await current_and_versions(session, tenant.customer_id, page, urgent)
        expected = model.model_dump(mode="json")
        assert response.json() == expected
        assert expected["current"]["containers"], "the tenant has containers to compare"
        one = await api_client.get(f"{base}/{tenant.version}", params=params, headers=bearer(token))
        assert one.status_code == 200
        assert one.json() == expected["current"]
        RecommendationDetail.model_validate(one.json())  # and it still fits the schema


def test_splice_appends_raw_members_to_any_object() -> None:
    assert json.loads(splice({"a": 1}, {"b": "[1, 2]", "c": None})) == {
        "a": 1,
        "b": [1, 2],
        "c": None,
    }
    assert json.loads(splice({}, {"b": b'{"x": "<y>"}'})) == {"b": {"x": "<y>"}}
    assert splice({"a": "é"}, {}) == b'{"a":"\xc3\xa9"}'


async def test_a_version_is_served_with_an_etag_and_304_while_it_does_not_change(
    api_client: httpx.AsyncClient,
    tenants: Tenants,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a = tenants.a
    url = f"/api/customers/{a.customer_id}/recommendations/{a.version}"
    auth = bearer(tenants.buyer_a)
    first = await api_client.get(url, headers=auth)
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('"')
    again = await api_client.get(url, headers={**auth, "If-None-Match": f'"other", {tag}'})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    other_page = await api_client.get(
        url, params={"page_size": 3}, headers={**auth, "If-None-Match": tag}
    )
    assert other_page.status_code == 200 and other_page.headers["etag"] != tag
    # Another tenant's version with a guessed tag is still a 404.
    b = tenants.b
    foreign = await api_client.get(
        f"/api/customers/{b.customer_id}/recommendations/{b.version}",
        headers={**auth, "If-None-Match": tag},
    )
    assert foreign.status_code == 404

    await _reject(sessions, a)
    decided = await api_client.get(url, headers={**auth, "If-None-Match": tag})
    assert decided.status_code == 200 and decided.json()["status"] == "rejected"
    assert decided.headers["etag"] != tag


def _header(id_: int, customer_id: int = 1, version: int = 1) -> dict[str, object]:
    return {"id": id_, "customer_id": customer_id, "version": version, "as_of": "2026-11-30"}


def test_rendered_versions_keep_the_most_recently_used_within_their_bytes() -> None:
    cache = RenderedVersions(max_bytes=10)
    page = PageRequest(1, 50)
    keys = [RenderedVersions.key(_header(i), page, False) for i in range(3)]
    cache.put(keys[0], b"aaaa")
    cache.put(keys[1], b"bbbb")
    assert cache.get(keys[0]) == b"aaaa"  # now the most recently used
    cache.put(keys[2], b"cccc")
    assert cache.get(keys[1]) is None and cache.get(keys[0]) == b"aaaa"
    assert cache.get(keys[2]) == b"cccc" and cache.bytes == 8 and len(cache) == 2
    cache.put(keys[1], b"x" * 11)  # larger than the whole cache: not kept, nothing evicted
    assert len(cache) == 2 and cache.get(keys[1]) is None


def test_a_rendered_version_is_known_by_more_than_its_id() -> None:
    page = PageRequest(1, 50)
    key = RenderedVersions.key(_header(7), page, False)
    assert key != RenderedVersions.key(_header(7, customer_id=2), page, False)
    assert key != RenderedVersions.key(_header(7, version=2), page, False)
    assert key != RenderedVersions.key(_header(7), PageRequest(2, 50), False)
    assert key != RenderedVersions.key(_header(7), page, True)


async def test_a_version_rendered_once_is_served_from_memory_with_its_current_status(
    api_client: httpx.AsyncClient,
    tenants: Tenants,
    sessions: async_sessionmaker[AsyncSession],
    api_app: FastAPI,
) -> None:
    rendered: RenderedVersions = api_app.state.resources.rendered_versions
    a = tenants.a
    url = f"/api/customers/{a.customer_id}/recommendations/{a.version}"
    auth = bearer(tenants.buyer_a)
    before = len(rendered)
    first = await api_client.get(url, params={"page_size": 5}, headers=auth)
    assert first.status_code == 200 and len(rendered) == before + 1
    again = await api_client.get(url, params={"page_size": 5}, headers=auth)
    assert again.content == first.content and len(rendered) == before + 1
    await _reject(sessions, a)
    decided = (await api_client.get(url, params={"page_size": 5}, headers=auth)).json()
    assert decided["status"] == "rejected"
    changed = {"status", "decided_at", "decided_by"}
    assert {k: v for k, v in decided.items() if k not in changed} == {
        k: v for k, v in first.json().items() if k not in changed
    }


async def _reject(sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> None:
    async with unit_of_work(sessions) as session:
        await decide(
            session,
            tenant.customer_id,
            tenant.version,
            RecommendationStatus.REJECTED,
            decided_by="test",
            at=datetime.now(UTC),
        )
