"""What the ERP saw of its callers: requests per second and how many were in flight at once.

A supplier's ERP is shared and fragile; a load test needs the ERP's own view of the load,
not the caller's. Every ERP API request (not the admin API) is counted in the second it
arrived, by outcome, and the number of requests being answered at once is tracked.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter

from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ERP_PREFIX = "/api/v1/"


class TrafficReport(BaseModel):
    requests: int = Field(description="ERP API requests since the meter was reset")
    by_status: dict[str, int] = Field(description="Requests by HTTP status answered")
    seconds: float = Field(description="From the first request to the last")
    busiest_second: int = Field(description="Most requests that arrived within one second")
    busiest_second_at: float | None = Field(
        description="That second, in seconds after the first request"
    )
    peak_in_flight: int = Field(description="Most requests being answered at once")
    per_second: list[int] = Field(
        description="Requests that arrived in each second from the first request's"
    )


class TrafficMeter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._first: float | None = None
            self._last = 0.0
            self._seconds: Counter[int] = Counter()
            self._statuses: Counter[int] = Counter()
            self._in_flight = 0
            self._peak = 0

    def arrived(self) -> None:
        now = time.monotonic()
        with self._lock:
            if self._first is None:
                self._first = now
            self._last = now
            self._seconds[math.floor(now - self._first)] += 1
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)

    def answered(self, status: int) -> None:
        with self._lock:
            self._in_flight -= 1
            self._statuses[status] += 1

    def report(self) -> TrafficReport:
        with self._lock:
            span = max(self._seconds, default=-1) + 1
            per_second = [self._seconds.get(s, 0) for s in range(span)]
            busiest = max(range(span), key=per_second.__getitem__, default=None)
            return TrafficReport(
                requests=sum(per_second),
                by_status={str(k): v for k, v in sorted(self._statuses.items())},
                seconds=round(self._last - self._first, 3) if self._first is not None else 0.0,
                busiest_second=per_second[busiest] if busiest is not None else 0,
                busiest_second_at=busiest,
                peak_in_flight=self._peak,
                per_second=per_second,
            )


class TrafficMiddleware:
    """Counts ERP API requests into the meter (outermost, so faults' answers count too)."""

    def __init__(self, app: ASGIApp, *, meter: TrafficMeter) -> None:
        self.app = app
        self.meter = meter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(ERP_PREFIX):
            await self.app(scope, receive, send)
            return
        self.meter.arrived()
        status = 500

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            self.meter.answered(status)
