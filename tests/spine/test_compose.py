"""Docker does not run here, so check that the compose stack refers only to real things."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY
from typer.testing import CliRunner

import core.metrics  # noqa: F401  (registers Restock's metrics)
from cli.main import app
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OUR_SERVICES = {name: s for name, s in SERVICES.items() if "build" in s}
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def test_the_production_shaped_stack_is_complete() -> None:
    assert {"postgres", "temporal", "temporal-ui", "api", "worker", "erp-sim"} <= SERVICES.keys()
    assert SERVICES["temporal"]["environment"]["DB"].startswith("postgres")


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_commands_exist_in_the_project(name: str) -> None:
    command = OUR_SERVICES[name]["command"]
    if command[0] == "python":
        assert (ROOT / command[1]).is_file(), f"{name}: {command[1]} does not exist"
        return
    assert command[0] in SCRIPTS, f"{name}: {command[0]} is not a console script"
    result = CliRunner().invoke(app, [*command[1:], "--help"])
    assert result.exit_code == 0, f"{name}: `{' '.join(command)}` is not a command: {result.output}"


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_restock_env_vars_are_settings_fields(name: str) -> None:
    fields = {f"RESTOCK_{field.upper()}" for field in Settings.model_fields}
    env = OUR_SERVICES[name]["environment"]
    unknown = {key for key in env if key.startswith("RESTOCK_")} - fields
    assert not unknown, f"{name}: not Settings fields: {sorted(unknown)}"
    assert env["RESTOCK_ENV"] == "production"
    assert env["RESTOCK_DATABASE_URL"].startswith("postgresql+asyncpg://")


@pytest.mark.parametrize("name", sorted(OUR_SERVICES))
def test_secrets_come_from_the_environment(name: str) -> None:
    env = OUR_SERVICES[name]["environment"]
    secrets = (
        "RESTOCK_JWT_SECRET",
        "RESTOCK_ERP_API_KEY",
        "RESTOCK_ERP_ADMIN_KEY",
        "RESTOCK_ERP_WEBHOOK_SECRET",
    )
    for key in secrets:
        assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", env[key]), f"{name}: {key} is not required"


def test_service_addresses_point_at_defined_services() -> None:
    env = OUR_SERVICES["api"]["environment"]
    hosts = {
        re.search(r"@([\w-]+):", env["RESTOCK_DATABASE_URL"]).group(1),  # type: ignore[union-attr]
        env["RESTOCK_TEMPORAL_ADDRESS"].split(":")[0],
        re.search(r"//([\w-]+):", env["RESTOCK_ERP_BASE_URL"]).group(1),  # type: ignore[union-attr]
    }
    assert hosts <= SERVICES.keys()
    for name, service in SERVICES.items():
        assert set(service.get("depends_on", [])) <= SERVICES.keys(), name


def test_dockerfile_copies_every_package_that_exists() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+(?: \S+)*?) \S+$", dockerfile, flags=re.M):
        for path in source.split():
            assert (ROOT / path).exists(), f"Dockerfile copies missing {path}"
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for pattern in packages["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        assert f"COPY {package} ./{package}" in dockerfile, f"Dockerfile misses package {package}"


def test_temporal_stays_on_the_internal_network() -> None:
    """Neither the frontend nor the UI is published; the UI is reached through the API's
    ops-only proxy, under the path it is told to serve."""
    assert "ports" not in SERVICES["temporal"]
    assert SERVICES["temporal"]["expose"] == ["7233"]
    ui = SERVICES["temporal-ui"]
    assert "ports" not in ui
    path = ui["environment"]["TEMPORAL_UI_PUBLIC_PATH"]
    env = OUR_SERVICES["api"]["environment"]
    assert env["RESTOCK_TEMPORAL_UI_UPSTREAM"] == f"http://temporal-ui:8080{path}"
    assert env["RESTOCK_TEMPORAL_UI_URL"].endswith(path)
    for name, service in OUR_SERVICES.items():
        address = service.get("environment", {}).get("RESTOCK_TEMPORAL_ADDRESS")
        assert address in (None, "temporal:7233"), name


def test_the_erp_simulator_keeps_its_world_on_a_volume() -> None:
    """It journals its world under RESTOCK_VAR_DIR: a writable volume, or it would not start
    (the image runs as a non-root user) and would forget on restart."""
    sim = SERVICES["erp-sim"]
    data = sim["environment"]["RESTOCK_VAR_DIR"]
    volume, mount = sim["volumes"][0].split(":")
    assert mount == data and volume in COMPOSE["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"mkdir -p {data} && chown restock {data}" in dockerfile


def test_the_worker_scales_out() -> None:
    """`docker compose up --scale worker=3`: nothing in the worker's service is one of a kind
    (a name, a host port, a volume of its own), and workers share the ERP's rate through
    Temporal (`worker.share_erp_rate`), not through anything on the host."""
    worker = SERVICES["worker"]
    assert not {"container_name", "hostname", "ports", "volumes"} & worker.keys()
    assert worker["command"] == ["python", "worker.py"]


PROMETHEUS = yaml.safe_load((ROOT / "ops/prometheus/prometheus.yml").read_text())
DASHBOARD = json.loads((ROOT / "ops/grafana/dashboards/restock.json").read_text())
ALERTS = yaml.safe_load((ROOT / "ops/prometheus/alerts.yml").read_text())


def _port(address: str) -> int:
    return int(address.rpartition(":")[2])


def test_prometheus_scrapes_the_api_and_every_worker_replica_where_they_serve() -> None:
    jobs = {job["job_name"]: job for job in PROMETHEUS["scrape_configs"]}
    api = SERVICES["api"]["environment"]
    assert jobs["restock-api"]["static_configs"][0]["targets"] == [f"api:{api['RESTOCK_API_PORT']}"]
    worker = SERVICES["worker"]["environment"]
    for job, setting in (
        ("restock-worker", "RESTOCK_WORKER_METRICS_ADDRESS"),
        ("temporal-sdk", "RESTOCK_TEMPORAL_METRICS_ADDRESS"),
    ):
        (found,) = jobs[job]["dns_sd_configs"]
        assert found["names"] == ["worker"] and found["port"] == _port(worker[setting])
        assert str(found["port"]) in SERVICES["worker"]["expose"]
    # The token Prometheus sends is the API's, and comes from the environment.
    assert (
        api["RESTOCK_METRICS_TOKEN"]
        == SERVICES["prometheus"]["environment"]["RESTOCK_METRICS_TOKEN"]
    )
    token_file = jobs["restock-api"]["authorization"]["credentials_file"]
    assert token_file in SERVICES["prometheus"]["command"][0]
    for service in ("prometheus", "grafana"):
        for volume in SERVICES[service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{service}: {source} does not exist"


def _restock_series() -> set[str]:
    names: set[str] = set()
    for family in REGISTRY.collect():
        if family.name.startswith("restock_"):
            names |= {sample.name for sample in family.samples} | {family.name}
            suffixes = ("_total",) if family.type == "counter" else ("_bucket", "_count", "_sum")
            names |= {family.name + s for s in suffixes}
    return names


def test_the_dashboard_and_alerts_ask_only_for_metrics_we_serve() -> None:
    exprs = [t["expr"] for p in DASHBOARD["panels"] for t in p["targets"]]
    exprs += [rule["expr"] for group in ALERTS["groups"] for rule in group["rules"]]
    asked = {name for e in exprs for name in re.findall(r"\b(restock_[a-z_]+)", e)}
    assert asked, "no Restock metric on the dashboard"
    assert asked <= _restock_series(), sorted(asked - _restock_series())
    assert {p["datasource"]["uid"] for p in DASHBOARD["panels"]} == {"prometheus"}
    datasource = yaml.safe_load(
        (ROOT / "ops/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert datasource["datasources"][0]["uid"] == "prometheus"
