"""`spans`: the process's spans captured in memory while a test runs (tracing on).

Workflows of an earlier traced test can still be in memory, evicted from its worker but not
yet collected; their spans end when the collector closes their coroutines. Collecting before
the capture starts keeps those out of this test's exporter, and collecting after keeps this
test's out of whichever later test the collector happens to run in (a finalizer run inside
`ast.parse` trips CPython 3.11's AST recursion check: SystemError in
tests/spine/test_layering.py when it ran after a traced test)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core import tracing


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    gc.collect()
    exporter = InMemorySpanExporter()
    tracing.install(SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        tracing.install(None)
        gc.collect()
