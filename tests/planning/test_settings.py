"""PlanSettings: documented defaults, and validation errors that name the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from planning import PlanSettings


def test_defaults() -> None:
    s = PlanSettings()
    assert s.container_capacity_cartons == 90_000
    assert s.forecast_method == "auto" and s.trailing_weeks == 12
    assert s.last_container == "top_up"
    assert s.z == pytest.approx(1.6449, abs=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "loc"),
    [
        ({"target_soh_weeks": 0}, ("target_soh_weeks",)),
        ({"target_soh_overrides": {"SKU-9": -2}}, ("target_soh_overrides", "SKU-9")),
        ({"service_level": 1.2}, ("service_level",)),
        ({"container_capacity_cartons": 0}, ("container_capacity_cartons",)),
        ({"forecast_method": "magic"}, ("forecast_method",)),
        ({"max_cover_weeks": 4}, ("max_cover_weeks",)),
        ({"colour": "red"}, ("colour",)),
    ],
)
def test_validation_names_the_field(kwargs: dict[str, object], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        PlanSettings(**kwargs)  # type: ignore[arg-type]
    assert exc.value.errors()[0]["loc"] == loc


def test_max_cover_below_target_is_fine_without_top_up() -> None:
    assert PlanSettings(max_cover_weeks=4, last_container="keep").max_cover_weeks == 4
