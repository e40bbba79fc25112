"""Liveness and readiness: /readyz checks each dependency and names the one that is down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import ResourcesDep
from store.db import ping as ping_database

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 3.0


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class ComponentCheck(BaseModel):
    status: Literal["up", "down"]
    detail: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    components: dict[str, ComponentCheck]
    down: list[str]


@router.get("/healthz", response_model=Liveness, summary="The process is alive")
async def healthz() -> Liveness:
    return Liveness()


async def _check(probe: Callable[[], Awaitable[None]]) -> ComponentCheck:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return ComponentCheck(status="down", detail=f"no answer within {CHECK_TIMEOUT_SECONDS} s")
    except Exception as exc:
        return ComponentCheck(status="down", detail=getattr(exc, "detail", None) or repr(exc))
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
        _check(lambda: ping_database(resources.engine)),
        _check(resources.temporal.check),
        _check(resources.erp.ping),
    )
    components = dict(zip(names, results, strict=True))
    down = [name for name, check in components.items() if check.status == "down"]
    body = Readiness(status="unavailable" if down else "ready", components=components, down=down)
    return JSONResponse(body.model_dump(), status_code=503 if down else 200)
