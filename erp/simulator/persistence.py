"""A simulator that continues where it stopped: the demo world rebuilt from its journal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from erp.simulator.journal import Journal, Origin
from erp.simulator.world import SimWorld, SubmittedLine, spec_from_body
from planning.models import CreditStatus

log = logging.getLogger(__name__)


def _submit(world: SimWorld, body: dict[str, Any]) -> None:
    world.submit(
        body["code"],
        idempotency_key=body["idempotency_key"],
        lines=[SubmittedLine(code, quantity) for code, quantity in body["lines"]],
        reference=body["reference"],
        received_at=datetime.fromisoformat(body["received_at"]),
    )


REPLAY: dict[str, Callable[[SimWorld, dict[str, Any]], object]] = {
    "add_spec": lambda w, b: w.add_spec(spec_from_body(b["spec"]), seed=b["seed"]),
    "materialize": lambda w, b: w.customer(b["code"]),
    "credit": lambda w, b: w.set_credit_status(b["code"], CreditStatus(b["status"])),
    "credit_position": lambda w, b: w.set_credit_position(
        b["code"],
        None if b["limit"] is None else Decimal(b["limit"]),
        None if b["balance"] is None else Decimal(b["balance"]),
    ),
    "rows": lambda w, b: w.inject_rows(b["code"], b["dataset"], b["rows"]),
    "gap": lambda w, b: w.remove_shipments(
        b["code"], date.fromisoformat(b["start"]), date.fromisoformat(b["end"])
    ),
    "advance": lambda w, b: w.advance(b["days"]),
    "delay": lambda w, b: w.delay_order(b["code"], b["number"], b["days"]),
    "cancel": lambda w, b: w.cancel_order(b["code"], b["number"]),
    "submit": _submit,
}


def open_world(path: Path, *, seed: int, today: date, fresh: bool = False) -> SimWorld:
    """The demo world kept in `path`: rebuilt from its journal when there is one (its own
    seed and start date win over `seed` and `today`), else a new one from `seed` and
    `today`. `fresh` forgets what was kept."""
    journal = Journal(path)
    origin = None if fresh else journal.origin()
    if origin is None:
        journal.begin(Origin(seed, today))
        world = SimWorld.demo(seed, today)
        log.info("ERP simulator: a new world from %s (seed %d), kept in %s", today, seed, path)
    else:
        if (origin.seed, origin.start_date) != (seed, today):
            log.info(
                "ERP simulator: continuing the world kept in %s (seed %d, started %s); "
                "start it with --fresh for a new one",
                path,
                origin.seed,
                origin.start_date,
            )
        world = replay(journal, origin)
    world.journal = journal
    return world


def replay(journal: Journal, origin: Origin) -> SimWorld:
    """Apply the journal's changes in order to a new world on the same origin. Events the
    replay raises were pushed before the restart (or are found by polling): none is queued
    again."""
    world = SimWorld.demo(origin.seed, origin.start_date)
    applied = 0
    for kind, body in journal.changes():
        try:
            REPLAY[kind](world, body)
        except Exception as err:
            raise RuntimeError(
                f"{journal.path}: change {applied + 1} ({kind}) cannot be replayed ({err!r}); "
                "start the simulator with --fresh to begin a new world"
            ) from err
        applied += 1
    world.take_events()
    log.info(
        "ERP simulator: %d changes replayed from %s; business date %s, %d submissions",
        applied,
        journal.path,
        world.today,
        len(world.submissions),
    )
    return world
