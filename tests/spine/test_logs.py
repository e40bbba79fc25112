"""Log lines, as text or JSON lines, carry the request id and the customer of the request
(the API, the ERP simulator); the worker's activity lines are checked in
tests/workflows/test_metrics.py, with a live worker."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from core import logs
from core.settings import Environment, LogFormat, Settings
from tests.plugins.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def captured(fmt: LogFormat, service: str = "api") -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logs.handler(service, fmt, stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_an_api_line_names_its_request_and_the_routes_customer(
    api_client: httpx.AsyncClient,
) -> None:
    with captured(LogFormat.JSON) as stream:
        answer = await api_client.get(
            "/api/customers/42/products", headers={"X-Request-Id": "req-abc"}
        )
    assert answer.status_code == 401
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    refusal = [line for line in lines if "401" in line["message"]]
    assert refusal, lines
    assert refusal[0]["request_id"] == "req-abc" and refusal[0]["customer"] == "42"
    assert refusal[0]["service"] == "api" and refusal[0]["level"] == "info"
    assert refusal[0]["workflow_id"] is None
    # Outside a request, nothing of it leaks onto the next line.
    with captured(LogFormat.JSON) as stream:
        logging.getLogger("restock.test").warning("after")
    after = json.loads(stream.getvalue())
    assert after["request_id"] is None and after["customer"] is None


def test_text_lines_end_with_their_context_and_keep_tracebacks_below() -> None:
    with captured(LogFormat.TEXT) as stream:
        token = logs.request_id.set("r-1")
        try:
            try:
                raise ValueError("boom")
            except ValueError:
                logging.getLogger("restock.test").exception("failed here")
        finally:
            logs.request_id.reset(token)
        logging.getLogger("restock.test").warning("plain")
    first, *rest = stream.getvalue().splitlines()
    assert first.endswith("failed here [request_id=r-1]")
    assert "ValueError: boom" in rest[-2] and rest[-1].endswith("WARNING restock.test: plain")


def test_json_is_the_default_outside_development() -> None:
    assert Settings(env=Environment.DEVELOPMENT).effective_log_format is LogFormat.TEXT
    assert Settings(env=Environment.TEST).effective_log_format is LogFormat.JSON
    assert Settings(env=Environment.TEST, log_format="text").effective_log_format is LogFormat.TEXT
    with pytest.raises(ValueError, match="log_format"):
        Settings(log_format="xml")


def test_the_erp_simulators_access_lines_are_json_with_request_id_and_customer(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "RESTOCK_ENV": "test",
        "RESTOCK_LOG_FORMAT": "json",
        "RESTOCK_VAR_DIR": str(tmp_path),
    }
    log = tmp_path / "erp-sim.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "erp-sim", "--port", str(port), "--no-keep"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
    key = {"X-Api-Key": Settings(env=Environment.TEST).erp_api_key}
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/ping", headers=key, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        answer = httpx.get(
            f"{base}/customers/K-10040", headers={**key, "X-Request-Id": "sim-7"}, timeout=5
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-request-id"] == "sim-7"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(line["service"] == "erp-sim" for line in lines)
    access = [line for line in lines if line["request_id"] == "sim-7"]
    assert access, lines
    assert access[0]["logger"] == "uvicorn.access" and access[0]["customer"] == "K-10040"
