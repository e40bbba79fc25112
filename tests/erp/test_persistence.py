"""The ERP simulator remembers: customers added, orders submitted, faults in its data and the
business date survive a restart, also a `kill -9` (the world is rebuilt from its journal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from core.settings import get_settings
from erp.simulator.generator import CustomerSpec
from erp.simulator.journal import JournalInUse
from erp.simulator.persistence import open_world
from erp.simulator.world import SimWorld, SubmittedLine
from planning.models import CreditStatus, ProductStatus
from tests.plugins.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
START = date(2026, 1, 5)


def _order_lines(world: SimWorld, code: str, n: int) -> list[SubmittedLine]:
    state = world.customer(code)
    active = [p for p in state.products if p.status is ProductStatus.ACTIVE][:n]
    return [SubmittedLine(p.code, max(p.pack_size, p.moq)) for p in active]


def _picture(world: SimWorld) -> dict[str, Any]:
    """Everything a client of the ERP could see, and the counters behind the next answers."""
    customers = {}
    for code in world.customer_codes:
        state = world.customer(code)
        customers[code] = {
            "profile": state.profile.model_dump(),
            "prices": [p.model_dump() for p in state.prices],
            "stock": state.stock.tolist(),
            "orders": {n: vars(r).copy() for n, r in state.orders.items()},
            "shipments": [vars(r).copy() for r in state.shipments],
            "rows": state.raw_rows,
            "api_orders": sorted(state.api_orders),
        }
    return {
        "today": world.today,
        "start": world.start_date,
        "seed": world.seed,
        "events_emitted": world.events_emitted,
        "submissions": {k: vars(s).copy() for k, s in world.submissions.items()},
        "customers": customers,
    }


def test_a_restarted_world_is_the_world_that_stopped(tmp_path: Path) -> None:
    path = tmp_path / "erp-sim.db"
    world = open_world(path, seed=7, today=START)
    world.add_spec(CustomerSpec(code="P-ONE", name="One", n_products=12, late_share=0.5,
                                late_days=4), seed=3)  # fmt: skip
    world.advance(3)
    first, _ = world.submit(
        "P-ONE", idempotency_key="k1", lines=_order_lines(world, "P-ONE", 3), reference="r1"
    )
    world.submit(  # the same key again: one order, two requests
        "P-ONE", idempotency_key="k1", lines=_order_lines(world, "P-ONE", 3), reference="r1"
    )
    demo = world.customer_codes[0]
    world.advance(10)
    second, _ = world.submit(
        demo, idempotency_key="k2", lines=_order_lines(world, demo, 2), reference=None
    )
    world.delay_order(demo, second.number, 9)
    world.set_credit_status("P-ONE", CreditStatus.HOLD)
    world.set_credit_position("P-ONE", Decimal("50000.00"), Decimal("1234.56"))
    world.inject_rows("P-ONE", "items", [{"ITEM_NO": "BROKEN"}])
    world.remove_shipments(demo, START, date(2026, 1, 10))
    world.advance(80)  # the first order ships and arrives (lead time 8 weeks, maybe late)
    assert world.customer("P-ONE").orders[first.number].status.value == "delivered"
    before = _picture(world)
    assert world.journal is not None
    world.journal.close()

    # Restarted with other options: the kept world wins.
    again = open_world(path, seed=99, today=date(2030, 1, 1))
    after = _picture(again)
    assert after == before
    assert again.outbox == []  # what the replay raised was pushed before the restart
    assert np.array_equal(again.customer(demo).stock, world.customer(demo).stock)

    # It goes on from there, and remembers that too.
    third, replayed = again.submit(
        demo, idempotency_key="k3", lines=_order_lines(again, demo, 1), reference=None
    )
    assert not replayed and third.number != second.number
    assert again.journal is not None
    again.journal.close()
    kept = open_world(path, seed=7, today=START)
    assert "k3" in kept.submissions
    assert kept.journal is not None
    kept.journal.close()

    fresh = open_world(path, seed=7, today=START, fresh=True)
    assert fresh.submissions == {} and fresh.today == START
    with pytest.raises(JournalInUse, match="used by another ERP simulator"):
        open_world(path, seed=7, today=START)  # one simulator per journal
    assert fresh.journal is not None
    fresh.journal.close()


def _serve(state: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "cli.main", "erp-sim", "--port", str(port),
        "--state", str(state), "--speed", "0", "--today", START.isoformat(),
    ]  # fmt: skip
    env = {**os.environ, "RESTOCK_ERP_SIM_WEBHOOK_URL": ""}
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _up(base: str, process: subprocess.Popen[bytes], headers: dict[str, str]) -> str:
    for _ in range(300):
        assert process.poll() is None, "the simulator exited"
        try:
            response = httpx.get(f"{base}/api/v1/ping", headers=headers, timeout=2)
            if response.status_code == 200:
                return str(response.json()["AS_OF_DT"])
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the simulator did not start")


def test_kill_9_and_start_again_keeps_orders_customers_and_the_date(tmp_path: Path) -> None:
    settings = get_settings()
    api = {"X-Api-Key": settings.erp_api_key}
    admin = {"X-Admin-Key": settings.erp_admin_key}
    state, log, port = tmp_path / "erp-sim.db", tmp_path / "erp-sim.log", free_port()
    base = f"http://127.0.0.1:{port}"
    code = f"R-{uuid.uuid4().hex[:6].upper()}"
    process = _serve(state, port, log)
    try:
        _up(base, process, api)
        created = httpx.post(
            f"{base}/admin/customers", headers=admin, json={"code": code, "n_products": 10}
        )
        assert created.status_code == 201, created.text
        items = httpx.get(f"{base}/api/v1/customers/{code}/items", headers=api).json()
        item = next(i for i in items["ROWS"] if i["ITEM_STAT"] == "A")
        quantity = max(int(item["PACK_QTY"]), int(item["MOQ_QTY"]))
        order = {"LINES": [{"ITEM_CODE": item["ITEM_CODE"], "ORDER_QTY": quantity}]}
        placed = httpx.post(
            f"{base}/api/v1/customers/{code}/orders",
            headers={**api, "Idempotency-Key": "restart-1"},
            json=order,
        )
        assert placed.status_code == 201, placed.text
        advanced = httpx.post(f"{base}/admin/clock/advance", headers=admin, json={"days": 5})
        assert advanced.status_code == 200, advanced.text
        before_orders = httpx.get(f"{base}/api/v1/customers/{code}/orders", headers=api).json()
        before_date = _up(base, process, api)
        before_submissions = httpx.get(f"{base}/admin/submissions", headers=admin).json()
        process.send_signal(signal.SIGKILL)
        process.wait(10)

        process = _serve(state, port, log)
        assert _up(base, process, api) == before_date
        assert httpx.get(f"{base}/admin/submissions", headers=admin).json() == before_submissions
        after_orders = httpx.get(f"{base}/api/v1/customers/{code}/orders", headers=api).json()
        assert after_orders == before_orders
        again = httpx.post(
            f"{base}/api/v1/customers/{code}/orders",
            headers={**api, "Idempotency-Key": "restart-1"},
            json=order,
        )
        assert again.status_code == 200, again.text  # a retry after the restart: the same order
        assert again.json()["ORDER_NO"] == placed.json()["ORDER_NO"]
    finally:
        process.kill()
        process.wait(10)
    assert "changes replayed" in log.read_text()
