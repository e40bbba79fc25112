"""The recommendations routes splice stored JSON text into their answer; the answer must be
exactly what the models would have produced (key order aside)."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.recommendation_json import splice
from services.views.recommendations import RecommendationDetail, current_and_versions
from store.pagination import PageRequest
from tests.api.conftest import Tenants, bearer


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
