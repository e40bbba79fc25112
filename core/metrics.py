"""Restock's Prometheus metrics: one definition of each, in the process's default registry
(with the process and Python collectors), served at `/metrics` by the API and the worker.

Labels are small closed sets (a route's template, never its path; an ERP endpoint's
name; an outcome) so a scrape stays the same size however many customers there are.
"""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)

HTTP_REQUESTS = Counter(
    "restock_http_requests",
    "API requests answered, by route template, method and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "restock_http_request_duration_seconds",
    "API request latency (first byte of the request to the last of the answer), by route",
    ["route", "method"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CYCLES = Counter(
    "restock_cycles",
    "Reorder cycles reaching a status (recorded in the read model by the worker)",
    ["status"],
)
DECISIONS = Counter(
    "restock_decisions",
    "Decisions on recommendations: approved (by a buyer or auto-approved), rejected",
    ["decision"],
)
ERP_CALLS = Counter(
    "restock_erp_requests",
    "Requests to the ERP by endpoint and outcome (ok, or the error's kind)",
    ["endpoint", "outcome"],
)
ERP_LATENCY = Histogram(
    "restock_erp_request_duration_seconds",
    "ERP request latency, request sent to answer read, by endpoint",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SUBMISSIONS = Counter(
    "restock_submissions",
    "Container orders offered to the ERP, by outcome (submitted, rejected, unknown)",
    ["outcome"],
)
PLANNING = Histogram(
    "restock_planning_duration_seconds",
    "Time to plan one recommendation (forecast, policy, packing), by customer size",
    ["size"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)


def size_class(products: int) -> str:
    """A customer's size as a label: how many products it has, by order of magnitude."""
    if products <= 100:
        return "up_to_100"
    if products <= 1000:
        return "up_to_1000"
    return "over_1000"


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus' text format and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve(address: str) -> tuple[WSGIServer, threading.Thread]:
    """Serve `/metrics` at `host:port` from a thread of this process (the worker's)."""
    host, _, port = address.rpartition(":")
    return start_http_server(int(port), addr=host or "0.0.0.0")
