"""Signed pushes from the ERP: how an order event is signed, checked and read.

The ERP signs `<timestamp>.<body>` with HMAC-SHA256 and the shared secret
(`RESTOCK_ERP_WEBHOOK_SECRET`) and sends

    X-Erp-Timestamp: <unix seconds>
    X-Erp-Signature: sha256=<hex digest>

A push is accepted only with a valid signature and a timestamp within the replay window, so
a captured push cannot be replayed later. The body is the ERP's own JSON, read through the
mapping's `order_event` entity (docs/erp-api.md#order-events).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from pydantic import ValidationError

from core.errors import InvalidInput, Unauthorized
from erp.mapping import ErpMapping, FieldError
from erp.models import ErpOrderEvent

TIMESTAMP_HEADER = "X-Erp-Timestamp"
SIGNATURE_HEADER = "X-Erp-Signature"
SCHEME = "sha256="


class BadSignature(Unauthorized):
    code = "bad_signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    message = str(timestamp).encode() + b"." + body
    return SCHEME + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "Content-Type": "application/json",
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, window_seconds: int
) -> None:
    """Raise `BadSignature` (401) unless the push is signed with `secret` and recent."""
    raw_timestamp = headers.get(TIMESTAMP_HEADER) or headers.get(TIMESTAMP_HEADER.lower())
    given = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower())
    if not raw_timestamp or not given:
        raise BadSignature(f"the push needs the {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise BadSignature(f"{TIMESTAMP_HEADER} is not a unix time") from None
    if not hmac.compare_digest(signature(secret, timestamp, body), given.strip()):
        raise BadSignature("the signature does not match the body")
    if abs(now - timestamp) > window_seconds:
        raise BadSignature(
            f"the push is stale: signed {abs(now - timestamp):.0f} s from now, "
            f"outside the {window_seconds} s window"
        )


def parse_event(mapping: ErpMapping, body: bytes) -> ErpOrderEvent:
    """The pushed event in our terms; `InvalidInput` (422) naming the field otherwise."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise InvalidInput(f"the body is not JSON: {exc}", field="body") from None
    if not isinstance(document, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    try:
        values = mapping.entity("order_event").convert(document)
        return ErpOrderEvent.model_validate(values)
    except FieldError as exc:
        raise InvalidInput(f"order event: {exc}", field=exc.field) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"order event: {field}: {first['msg']}", field=field) from None
