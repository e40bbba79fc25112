"""Registers the ERP simulator plugin for these tests if the root conftest has not yet.

Importing the plugin (instead of redefining its fixtures) keeps one simulator per session
once the root conftest lists it in `pytest_plugins`.
"""

from __future__ import annotations

import pytest

PLUGIN = "tests.plugins.erp_sim"


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)
