"""The engine's output is pinned: the seeded golden inputs give exactly the stored
`Recommendation`s (see `golden.py`). The explanation stage builds its models without
validation (`schemas.construct`), so this also checks every value has its field's type."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from pydantic import BaseModel

from planning import Recommendation, plan
from planning.models import ConsumptionReport, Shipment, StockSnapshot
from planning.schemas import (
    Container,
    ContainerLine,
    Explanation,
    Line,
    ProductPlan,
    Totals,
    construct,
)
from tests.planning.golden import CASES, FIXTURE, golden_input

EXPECTED = json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, Recommendation]:
    n, seed, settings = CASES[request.param]
    return request.param, plan(golden_input(n, seed, settings))


def test_recommendation_matches_the_pinned_output(case: tuple[str, Recommendation]) -> None:
    name, rec = case
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a value of the wrong type warns when serialised
        got = rec.model_dump(mode="json")
    want = EXPECTED[name]
    # Field by field first, so a failure names what changed.
    for field in ("summary", "totals", "warnings", "containers", "products", "lines"):
        assert got[field] == want[field], field
    # Then as text: 12 and 12.0 compare equal in Python but not here.
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)


def _typed(value: Any) -> Any:
    """The value with every leaf's type, models with their field order and fields set."""
    if isinstance(value, BaseModel):
        fields = {k: _typed(v) for k, v in value.__dict__.items()}
        return type(value).__name__, sorted(value.model_fields_set), fields
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    return type(value), value


def test_models_are_as_validation_would_build_them(case: tuple[str, Recommendation]) -> None:
    _, rec = case
    again = Recommendation.model_validate(rec.model_dump(exclude_unset=True))
    assert _typed(rec) == _typed(again)
    for model in [*rec.products, *rec.lines, *rec.containers, rec.totals, rec]:
        assert list(model.__dict__) == list(type(model).model_fields)
    for line in rec.lines:
        assert line.model_fields_set == set(Line.model_fields) - {"edited"}
        assert line.explanation is not None
        assert line.explanation.model_fields_set == set(Explanation.model_fields)
    for product in rec.products:
        assert product.model_fields_set == set(ProductPlan.model_fields)


@pytest.mark.parametrize(
    "cls",
    [
        Recommendation,
        ProductPlan,
        Line,
        Explanation,
        Container,
        ContainerLine,
        Totals,
        # the plan input's rows read back from the store (services.consumption, .recommend)
        ConsumptionReport,
        StockSnapshot,
        Shipment,
    ],
)
def test_construct_is_model_construct_without_the_loop(cls: type[BaseModel]) -> None:
    # `construct` skips exactly what these models do not have.
    assert cls.__pydantic_post_init__ is None
    decorators = cls.__pydantic_decorators__
    assert not decorators.field_validators and not decorators.model_validators
    values = {name: object() for name in cls.model_fields}
    built = construct(cls, dict(values), {"a"})
    reference = cls.model_construct({"a"}, **values)
    assert built.__dict__ == reference.__dict__
    assert built.model_fields_set == reference.model_fields_set == {"a"}
    assert built.__pydantic_extra__ == reference.__pydantic_extra__
    assert built.__pydantic_private__ == reference.__pydantic_private__
