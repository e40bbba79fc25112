"""Timeouts the workflows and the activities agree on."""

from __future__ import annotations

from datetime import timedelta

# An activity that heartbeats is declared lost after this without a beat. Generous, since
# planning a large customer holds the event loop for seconds at a time.
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
