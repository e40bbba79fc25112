"""Registers the ERP simulator plugin for these tests if the root conftest has not yet.

Importing the plugin (instead of redefining its fixtures) keeps one simulator per session
once the root conftest lists it in `pytest_plugins`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.plugins.erp_sim import ErpSim

PLUGIN = "tests.plugins.erp_sim"


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)


@pytest.fixture
async def fresh_customer(erp_sim: ErpSim) -> str:
    """A small generated customer of this test's own on the shared simulator."""
    code = f"T-{uuid.uuid4().hex[:8].upper()}"
    async with erp_sim.admin() as admin:
        response = await admin.post(
            "/admin/customers", json={"code": code, "n_products": 20, "seed": 3}
        )
    assert response.status_code == 201, response.text
    return code
