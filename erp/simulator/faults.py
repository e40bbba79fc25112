"""Fault injection for the simulated ERP: the bad days a real ERP has, on demand.

`FaultConfig` is what the admin API accepts; `FaultState` draws, per request, which faults
apply; `FaultMiddleware` carries them out around the ERP routes (never the admin routes).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Endpoint = Literal[
    "ping",
    "customer",
    "products",
    "shipments",
    "activity",
    "prices",
    "open_orders",
    "orders",
    "order",
    "submit",
]

_ROUTES: tuple[tuple[str, re.Pattern[str], Endpoint], ...] = (
    ("GET", re.compile(r"^/api/v1/ping$"), "ping"),
    ("GET", re.compile(r"^/api/v1/customers/[^/]+$"), "customer"),
    ("GET", re.compile(r"^/api/v1/customers/[^/]+/items$"), "products"),
    ("GET", re.compile(r"^/api/v1/customers/[^/]+/shipments$"), "shipments"),
    ("GET", re.compile(r"^/api/v1/customers/[^/]+/activity$"), "activity"),
    ("GET", re.compile(r"^/api/v1/customers/[^/]+/prices$"), "prices"),
    ("GET", re.compile(r"^/api/v1/customers/[^/]+/orders/open$"), "open_orders"),
    ("GET", re.compile(r"^/api/v1/customers/[^/]+/orders$"), "orders"),
    ("GET", re.compile(r"^/api/v1/customers/[^/]+/orders/[^/]+$"), "order"),
    ("POST", re.compile(r"^/api/v1/customers/[^/]+/orders$"), "submit"),
)


def endpoint_of(method: str, path: str) -> Endpoint | None:
    for route_method, pattern, name in _ROUTES:
        if method == route_method and pattern.match(path):
            return name
    return None


class FaultConfig(BaseModel):
    """Faults to inject into ERP requests. All off by default; rates are probabilities."""

    model_config = ConfigDict(extra="forbid")

    endpoints: list[Endpoint] | None = Field(
        default=None, description="Endpoints affected; null means every ERP endpoint"
    )
    error_rate: float = Field(default=0.0, ge=0, le=1, description="Share answered with an error")
    error_status: int = Field(default=500, ge=500, le=599)
    latency_seconds: float = Field(default=0.0, ge=0, le=120, description="Delay added")
    latency_after_processing: bool = Field(
        default=False,
        description="Delay the response after the request took effect (a lost response)",
    )
    outage_seconds: float = Field(
        default=0.0, ge=0, description="Start a full outage now: every request gets 503"
    )
    rate_limit_rate: float = Field(default=0.0, ge=0, le=1, description="Share answered 429")
    retry_after_seconds: float = Field(default=1.0, ge=0, description="Retry-After sent with 429")
    malformed_rate: float = Field(default=0.0, ge=0, le=1, description="Share with a broken body")
    reject_code: str | None = Field(
        default=None, description="Force submissions to be rejected with this ERP error code"
    )
    reject_message: str = "order rejected by ERP rule"
    times: int | None = Field(
        default=None, ge=1, description="Apply to the next N matching requests only, then clear"
    )


class FaultStatus(BaseModel):
    config: FaultConfig
    outage_remaining_seconds: float
    remaining_requests: int | None


@dataclass(frozen=True)
class FaultDecision:
    outage_remaining: float = 0.0
    error_status: int | None = None
    rate_limited_for: float | None = None
    malformed: bool = False
    latency_before: float = 0.0
    latency_after: float = 0.0
    rejection: tuple[str, str] | None = None


NO_FAULT = FaultDecision()


class FaultState:
    def __init__(self, *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._config = FaultConfig()
        self._outage_until = 0.0
        self._remaining: int | None = None

    def set(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config
            self._remaining = config.times
            self._outage_until = (
                time.monotonic() + config.outage_seconds if config.outage_seconds else 0.0
            )

    def reset(self) -> None:
        self.set(FaultConfig())

    def status(self) -> FaultStatus:
        with self._lock:
            return FaultStatus(
                config=self._config,
                outage_remaining_seconds=max(0.0, self._outage_until - time.monotonic()),
                remaining_requests=self._remaining,
            )

    def decide(self, endpoint: Endpoint) -> FaultDecision:
        with self._lock:
            config = self._config
            if config.endpoints is not None and endpoint not in config.endpoints:
                return NO_FAULT
            if config == FaultConfig():
                return NO_FAULT
            if self._remaining is not None:
                self._remaining -= 1
                if self._remaining <= 0:
                    self._config, self._remaining = FaultConfig(), None
            outage = self._outage_until - time.monotonic()
            if outage > 0:
                return FaultDecision(outage_remaining=outage)
            draw = self._random.random
            return FaultDecision(
                error_status=config.error_status if draw() < config.error_rate else None,
                rate_limited_for=(
                    config.retry_after_seconds if draw() < config.rate_limit_rate else None
                ),
                malformed=draw() < config.malformed_rate,
                latency_before=0.0 if config.latency_after_processing else config.latency_seconds,
                latency_after=config.latency_seconds if config.latency_after_processing else 0.0,
                rejection=(
                    (config.reject_code, config.reject_message)
                    if config.reject_code and endpoint == "submit"
                    else None
                ),
            )


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"ERR_CD": code, "ERR_MSG": message}).encode()


class FaultMiddleware:
    """Applies the world's fault decision to each ERP request (pure ASGI, cheap when idle)."""

    def __init__(self, app: ASGIApp, *, faults: FaultState) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = endpoint_of(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        decision = self.faults.decide(endpoint)
        scope.setdefault("state", {})["fault"] = decision
        if decision is NO_FAULT:
            await self.app(scope, receive, send)
            return
        if decision.outage_remaining > 0:
            retry = str(math.ceil(decision.outage_remaining))
            await _respond(send, 503, error_body("E_MAINTENANCE", "ERP is down"), retry)
            return
        if decision.latency_before:
            await asyncio.sleep(decision.latency_before)
        if decision.rate_limited_for is not None:
            retry = f"{decision.rate_limited_for:g}"
            await _respond(send, 429, error_body("E_RATE_LIMIT", "too many requests"), retry)
            return
        if decision.error_status is not None:
            body = error_body("E_INTERNAL", "internal ERP error")
            await _respond(send, decision.error_status, body)
            return
        if not (decision.malformed or decision.latency_after):
            await self.app(scope, receive, send)
            return
        status, headers, body = await _capture(self.app, scope, receive)
        if decision.latency_after:
            await asyncio.sleep(decision.latency_after)
        if decision.malformed:
            body = body[: max(1, len(body) // 2)] + b'{"ITEM_CO'
        await _respond(send, status, body, headers=headers)


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[Any], bytes]:
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    headers = [(k, v) for k, v in started.get("headers", []) if k.lower() != b"content-length"]
    return int(started.get("status", 500)), headers, b"".join(chunks)


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    retry_after: str | None = None,
    *,
    headers: list[Any] | None = None,
) -> None:
    out = list(headers) if headers is not None else [(b"content-type", b"application/json")]
    out.append((b"content-length", str(len(body)).encode()))
    if retry_after is not None:
        out.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})
