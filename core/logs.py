"""Log lines as text (development) or JSON lines (`RESTOCK_LOG_FORMAT`), each carrying where
it was written: the request id, the customer, the workflow and its run.

The API sets the request id and the request's scope, whose path parameters (filled in by
routing) name the customer; in the worker, an activity's lines take its workflow and run
from Temporal and its customer from the activity's input (`ActivityLogContext`); a
workflow's lines (`workflow.logger`) carry the workflow and run the SDK attaches to them.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from core.settings import LogFormat

request_id: ContextVar[str | None] = ContextVar("log_request_id", default=None)
customer: ContextVar[str | None] = ContextVar("log_customer", default=None)
request_scope: ContextVar[Mapping[str, Any] | None] = ContextVar("log_scope", default=None)

CONTEXT_FIELDS = ("request_id", "customer", "workflow_id", "run_id")


class ContextFilter(logging.Filter):
    """Puts the context fields on every record (None where there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.customer = customer.get() or _customer_of(request_scope.get())
        workflow_id = run_id = None
        details = getattr(record, "temporal_workflow", None)
        if isinstance(details, dict):
            workflow_id, run_id = details.get("workflow_id"), details.get("run_id")
        elif activity.in_activity():
            info = activity.info()
            workflow_id, run_id = info.workflow_id, info.workflow_run_id
        record.workflow_id, record.run_id = workflow_id, run_id
        return True


def _customer_of(scope: Mapping[str, Any] | None) -> str | None:
    if scope is None:
        return None
    params = scope.get("path_params") or {}
    for name in ("customer_id", "cust_no", "code"):  # the API's; the ERP simulator's
        if name in params:
            return str(params[name])
    return None


class ActivityLogContext(Interceptor):
    """A worker interceptor: while an activity runs, its lines name the customer its input
    names (`customer_id`, on the input or on its `approval`/`record`)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityInbound(next)


class _ActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        token = customer.set(_customer_in(input.args))
        try:
            return await super().execute_activity(input)
        finally:
            customer.reset(token)


def _customer_in(args: Any) -> str | None:
    for arg in args:
        for holder in (arg, getattr(arg, "approval", None), getattr(arg, "shipment", None)):
            found = getattr(holder, "customer_id", None)
            if found is not None:
                return str(found)
    return None


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            line[name] = getattr(record, name, None)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The plain line, with whatever context it has at its end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = [
            f"{name}={value}"
            for name in CONTEXT_FIELDS
            if (value := getattr(record, name, None)) is not None
        ]
        if not context:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first} [{' '.join(context)}]{newline}{rest}"


def handler(service: str, fmt: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing `fmt` lines with their context to `stream` (default: stderr)."""
    made = logging.StreamHandler(stream or sys.stderr)
    made.addFilter(ContextFilter())
    made.setFormatter(JsonFormatter(service) if fmt is LogFormat.JSON else TextFormatter())
    return made


def configure(service: str, fmt: LogFormat, level: int = logging.INFO) -> None:
    """One handler on the root logger, to stderr, in `fmt`; every library's logger (uvicorn's
    included, when it is started with `log_config=None`) writes through it."""
    root = logging.getLogger()
    root.handlers[:] = [handler(service, fmt)]
    root.setLevel(level)
