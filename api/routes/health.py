"""Liveness and readiness: /readyz checks each dependency and names the one that is down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import ResourcesDep
from store.db import ping as ping_database

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 3.0


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class ComponentCheck(BaseModel):
    """A component's state; why it is down is a stable code (the cause, with addresses and
    library errors, goes to the log, not to whoever asks)."""

    status: Literal["up", "down"]
    code: Literal["timeout", "unreachable"] | None = None
    detail: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    components: dict[str, ComponentCheck]
    down: list[str]


@router.get("/healthz", response_model=Liveness, summary="The process is alive")
async def healthz() -> Liveness:
    return Liveness()


async def _check(name: str, probe: Callable[[], Awaitable[None]]) -> ComponentCheck:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        log.warning("readiness: %s did not answer within %s s", name, CHECK_TIMEOUT_SECONDS)
        return ComponentCheck(
            status="down", code="timeout", detail=f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
        )
    except Exception as exc:
        cause = getattr(exc, "internal_detail", None) or getattr(exc, "detail", None) or repr(exc)
        log.warning("readiness: %s is down: %s", name, cause)
        return ComponentCheck(status="down", code="unreachable", detail=f"{name} is not reachable")
    return ComponentCheck(status="up")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Database, Temporal and ERP are reachable",
    responses={503: {"model": Readiness, "description": "At least one component is down"}},
)
async def readyz(resources: ResourcesDep) -> JSONResponse:
    names = ("database", "temporal", "erp")
    results = await asyncio.gather(
        _check("database", lambda: ping_database(resources.engine)),
        _check("temporal", resources.temporal.check),
        _check("erp", resources.erp.ping),
    )
    components = dict(zip(names, results, strict=True))
    down = [name for name, check in components.items() if check.status == "down"]
    body = Readiness(status="unavailable" if down else "ready", components=components, down=down)
    return JSONResponse(body.model_dump(), status_code=503 if down else 200)
