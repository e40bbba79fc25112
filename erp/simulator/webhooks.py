"""The simulator's order-event pushes: each event of an order placed through the API is POSTed,
signed, to the configured URL (Restock's `POST /api/erp/events`), as a real ERP's webhooks.

A push that fails for a reason that may pass (no answer, 5xx, 429) is retried with back-off;
one the receiver refuses (other 4xx) is not. The admin API shows the deliveries and can
deliver an event again, as an ERP that retries would (docs/erp-api.md#order-events).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field

import httpx

from erp.simulator.erp_format import event_doc
from erp.simulator.world import OrderEvent, SimWorld
from erp.webhooks import signed_headers

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    event: OrderEvent
    body: bytes
    attempts: int = 0
    status: str = "pending"  # pending | delivered | refused | failed
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt: float = field(default_factory=time.monotonic)


class WebhookPusher:
    def __init__(
        self,
        world: SimWorld,
        *,
        url: str,
        secret: str,
        max_attempts: int = 8,
        first_retry_seconds: float = 0.5,
        poll_seconds: float = 0.05,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.world = world
        self.url = url
        self.secret = secret
        self.max_attempts = max_attempts
        self.first_retry_seconds = first_retry_seconds
        self.poll_seconds = poll_seconds
        self.deliveries: dict[str, Delivery] = {}
        self._http = httpx.AsyncClient(timeout=timeout_seconds)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="erp-webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._http.aclose()

    async def _run(self) -> None:
        while True:
            for event in self.world.take_events():
                body = json.dumps(event_doc(event), separators=(",", ":")).encode()
                self.deliveries[event.event_id] = Delivery(event=event, body=body)
            now = time.monotonic()
            due = [
                d
                for d in self.deliveries.values()
                if d.status == "pending" and d.next_attempt <= now
            ]
            for delivery in due:
                await self._attempt(delivery)
            await asyncio.sleep(self.poll_seconds)

    async def _attempt(self, delivery: Delivery) -> int | None:
        delivery.attempts += 1
        headers = signed_headers(self.secret, int(time.time()), delivery.body)
        try:
            response = await self._http.post(self.url, content=delivery.body, headers=headers)
        except httpx.HTTPError as exc:
            delivery.last_error = f"{type(exc).__name__}: {exc}"
            self._retry_or_fail(delivery)
            return None
        code = delivery.last_status_code = response.status_code
        if code < 300:
            delivery.status = "delivered"
        elif code == 429 or code >= 500:
            delivery.last_error = response.text[:200]
            self._retry_or_fail(delivery)
        else:
            delivery.status, delivery.last_error = "refused", response.text[:200]
            log.warning("push %s refused: %s %s", delivery.event.event_id, code, response.text)
        return code

    def _retry_or_fail(self, delivery: Delivery) -> None:
        if delivery.attempts >= self.max_attempts:
            delivery.status = "failed"
            log.warning("push %s given up: %s", delivery.event.event_id, delivery.last_error)
            return
        wait = self.first_retry_seconds * 2 ** (delivery.attempts - 1)
        delivery.next_attempt = time.monotonic() + wait

    async def redeliver(self, event_id: str) -> int | None:
        """Deliver an event once more, now (the receiver must take it as the same event)."""
        delivery = self.deliveries[event_id]
        return await self._attempt(delivery)
