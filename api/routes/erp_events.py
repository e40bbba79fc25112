"""The ERP's pushes: `POST /api/erp/events`, authenticated by its HMAC signature, not a login.

See docs/api.md#erp-events for the headers, the body and the answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from api.deps import ResourcesDep
from api.schemas.common import ErrorBody
from core.errors import PayloadTooLarge
from erp.mapping import load_mapping
from services.erp_events import EventReceipt, receive

router = APIRouter(prefix="/api/erp", tags=["erp"])

MAX_EVENT_BYTES = 64 * 1024


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


@router.post(
    "/events",
    response_model=EventReceipt,
    status_code=status.HTTP_202_ACCEPTED,
    summary="An order event pushed by the ERP (shipped, ETA changed, delivered, cancelled); "
    "signed with X-Erp-Timestamp and X-Erp-Signature",
    responses={
        200: {"model": EventReceipt, "description": "Taken before or nothing to follow"},
        401: _error("Missing, wrong or stale signature"),
        404: _error("No such order of that customer"),
        413: _error("Body larger than 64 KiB"),
        422: _error("The body is not an order event (the field is named)"),
        503: _error("Temporal is unreachable; the ERP should push again later"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "example": {
                        "EVENT_ID": "EV-4f0c2a9e1b7d3c5a8e21",
                        "EVENT_TYPE": "ETA_CHANGED",
                        "BUS_DT": "20261214",
                        "CUST_NO": "K-10040",
                        "ORDER_NO": "SO10040-000123",
                        "ORDER_STAT": "INTR",
                        "ETA_DT": "02.02.2027",
                        "DLV_DT": None,
                    }
                }
            },
        }
    },
)
async def erp_event(request: Request, resources: ResourcesDep, response: Response) -> EventReceipt:
    body = await request.body()
    if len(body) > MAX_EVENT_BYTES:
        raise PayloadTooLarge(f"the body is {len(body):,} bytes; at most {MAX_EVENT_BYTES:,}")
    settings = resources.settings
    receipt = await receive(
        resources.sessions,
        await resources.temporal.get(),
        settings,
        load_mapping(settings.erp_mapping_file),
        headers=request.headers,
        body=body,
        task_queue=settings.temporal_task_queue,
    )
    if receipt.outcome != "applied":
        response.status_code = status.HTTP_200_OK
    return receipt
