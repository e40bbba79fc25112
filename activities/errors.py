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


def as_application_error(err: ErpError) -> ApplicationError:
    if isinstance(err, ErpUnavailable):
        delay = timedelta(seconds=err.retry_after) if err.retry_after else None
        return ApplicationError(str(err), type=type(err).__name__, next_retry_delay=delay)
    non_retryable = isinstance(err, ErpRejected | ErpBadData) or not err.retryable
    type_name = "ErpRejected" if isinstance(err, ErpRejected) else type(err).__name__
    return ApplicationError(str(err), type=type_name, non_retryable=non_retryable)


@contextmanager
def temporal_errors() -> Iterator[None]:
    """Wrap an activity's body: typed errors leave it as non-retryable or retryable
    `ApplicationError`s; anything unexpected stays retryable."""
    try:
        yield
    except ErpError as err:
        raise as_application_error(err) from err
    except (NotFound, Conflict, InvalidInput) as err:
        raise ApplicationError(str(err), type=type(err).__name__, non_retryable=True) from err
