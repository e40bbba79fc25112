"""Pacing one process's ERP requests: a rate and a cap on requests in flight.

A sync is one ERP call but a dozen requests or more (every listing, every page, fetched
concurrently), so a limit on calls does not protect the ERP from a burst of requests.

The rate is kept with N = floor(rate) permits (at least one): a request takes one before it
is sent and gives it back one second after its answer came (1 / rate seconds for a rate
below one). However late a request leaves or arrives (a busy event loop, the network), it
reaches the ERP between taking its permit and getting its answer, so no one-second window
at the ERP sees more than N of them: never more than `rate` in any second. At most
`in_flight` run at once. Workers share a global rate by setting each one's rate to its
share (`worker.share_erp_rate`).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class RequestPacer:
    def __init__(self, rate: float | None, in_flight: int) -> None:
        if in_flight < 1:
            raise ValueError("in_flight must be at least 1")
        self.in_flight = in_flight
        self._slots = asyncio.Semaphore(in_flight)
        self._permits_held = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.rate: float | None = None
        self.set_rate(rate)

    def set_rate(self, rate: float | None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (None: unpaced)")
        if rate == self.rate:  # the worker restates its share every few seconds
            return
        self.rate = rate
        while self._waiters:  # each waiter checks the new rate again
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def window(self) -> tuple[int, float]:
        """(N, seconds): at most N requests reach the ERP in any window of that many seconds."""
        if self.rate is None:
            raise ValueError("an unpaced pacer has no window")
        n = max(1, math.floor(self.rate))
        return n, max(1.0, n / self.rate)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _give_back(self) -> None:
        self._permits_held -= 1
        self._wake_one()

    async def _take_permit(self) -> float | None:
        """Wait for a permit; the seconds to hold it after the answer (None: unpaced)."""
        while self.rate is not None and self._permits_held >= self.window()[0]:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                self._wake_one()  # the wake this waiter may have had goes to the next
                raise
        if self.rate is None:
            return None
        self._permits_held += 1
        return self.window()[1]

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free slot and a permit; the request runs inside."""
        async with self._slots:
            hold = await self._take_permit()
            try:
                yield
            finally:
                if hold is not None:
                    asyncio.get_running_loop().call_later(hold, self._give_back)
