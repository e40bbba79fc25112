"""Our errors as Temporal errors that retry policies understand by type name.

ERP outages (`ErpUnavailable`, with the ERP's Retry-After) are retried; a business refusal,
an unreadable answer or a domain error (not found, conflict, bad input) is not: retrying
would not change it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio.exceptions import ApplicationError

from core.errors import Conflict, InvalidInput, NotFound
from erp.errors import ErpBadData, ErpError, ErpRejected, ErpUnavailable

# A failure's message is its headline in the Temporal UI: past a few hundred characters it
# hides the point (and a large failure is refused outright: "Failure exceeds size limit").
MAX_MESSAGE = 500
MAX_DETAIL = 2_000


def short(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_application_error(err: ErpError) -> ApplicationError:
    if isinstance(err, ErpUnavailable):
        delay = timedelta(seconds=err.retry_after) if err.retry_after else None
        return ApplicationError(
            short(str(err)), _detail(err), type=type(err).__name__, next_retry_delay=delay
        )
    non_retryable = isinstance(err, ErpRejected | ErpBadData) or not err.retryable
    type_name = "ErpRejected" if isinstance(err, ErpRejected) else type(err).__name__
    return ApplicationError(
        short(str(err)), _detail(err), type=type_name, non_retryable=non_retryable
    )


def _detail(err: Exception) -> str:
    """The whole message, bounded: the failure's details, under its short headline."""
    return short(f"{type(err).__name__}: {err}", MAX_DETAIL)


@contextmanager
def temporal_errors() -> Iterator[None]:
    """Wrap an activity's body: typed errors leave it as non-retryable or retryable
    `ApplicationError`s; anything unexpected stays retryable."""
    try:
        yield
    except ErpError as err:
        raise as_application_error(err) from None
    except (NotFound, Conflict, InvalidInput) as err:
        raise ApplicationError(
            short(str(err)), _detail(err), type=type(err).__name__, non_retryable=True
        ) from None
