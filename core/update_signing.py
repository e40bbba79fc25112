"""Updates carry their caller, signed: the actor in an update's payload is believed only when
the Restock API (or worker, or CLI) signed the update with a key only they hold.

Anyone who reaches Temporal's frontend can send an Update with any `actor`, which the audit
log would record. Our clients add a header: an HMAC over the workflow id, the update's name,
its id, its arguments and the run it is for (so a signature read from one run's history is
worth nothing to the next run of the same workflow id). The worker's interceptor checks it
in the update's validator, before the update is accepted; a missing or wrong signature is
refused and nothing is recorded.
Validators do not run on replay, so rotating the key never breaks a history.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import temporalio.client
import temporalio.converter
import temporalio.worker
from pydantic_core import to_jsonable_python
from temporalio import workflow
from temporalio.exceptions import ApplicationError

from core.settings import Settings

HEADER = "restock-caller-signature"
REFUSED = "CallerUnverified"


def signing_key(settings: Settings) -> bytes:
    """Derived from the JWT secret, which the API, the worker and the CLI already share."""
    return hmac.new(settings.jwt_secret.encode(), b"temporal-update-caller", "sha256").digest()


def signature(
    key: bytes,
    workflow_id: str,
    update: str,
    update_id: str,
    args: Sequence[Any],
    run_id: str,
) -> str:
    body = json.dumps(
        [workflow_id, run_id, update, update_id, to_jsonable_python(list(args))],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


class SignUpdates(temporalio.client.Interceptor):
    """Client side: every Update this client sends is signed."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        return _SigningOutbound(next, self._key)


class _SigningOutbound(temporalio.client.OutboundInterceptor):
    def __init__(self, next: temporalio.client.OutboundInterceptor, key: bytes) -> None:
        super().__init__(next)
        self._key = key

    async def start_workflow_update(
        self, input: temporalio.client.StartWorkflowUpdateInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        update_id = input.update_id or str(uuid.uuid4())
        # Bound to the run it is for: a later run of the same workflow id (a customer's next
        # cycle) accepts the same update id, and must not accept a signature read from this
        # run's history. The update is pinned to that run.
        run_id = input.run_id or await self._current_run(input)
        signed = signature(self._key, input.id, input.update, update_id, input.args, run_id)
        payload = temporalio.converter.default().payload_converter.to_payloads([signed])[0]
        headers = {**input.headers, HEADER: payload}
        return await super().start_workflow_update(
            replace(input, update_id=update_id, run_id=run_id, headers=headers)
        )

    async def _current_run(self, input: temporalio.client.StartWorkflowUpdateInput) -> str:
        described = await self.describe_workflow(
            temporalio.client.DescribeWorkflowInput(
                id=input.id,
                run_id=None,
                rpc_metadata=input.rpc_metadata,
                rpc_timeout=input.rpc_timeout,
            )
        )
        return described.run_id


class VerifyUpdates(temporalio.worker.Interceptor):
    """Worker side: an Update without our signature is refused by its validator."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        key = self._key

        class _VerifyingInbound(temporalio.worker.WorkflowInboundInterceptor):
            def handle_update_validator(self, input: temporalio.worker.HandleUpdateInput) -> None:
                sent = input.headers.get(HEADER)
                given = (
                    str(temporalio.converter.default().payload_converter.from_payload(sent, str))
                    if sent is not None
                    else ""
                )
                info = workflow.info()
                expected = signature(key, info.workflow_id, input.update, input.id, input.args,
                                     info.run_id)  # fmt: skip
                if not hmac.compare_digest(given, expected):
                    raise ApplicationError(
                        f"update {input.update!r} refused: not signed by Restock (its caller "
                        "cannot be trusted)",
                        type=REFUSED,
                        non_retryable=True,
                    )
                super().handle_update_validator(input)

        return _VerifyingInbound
