"""Typed ERP errors the orchestration acts on: retry the retryable ones, send the rest to ops.

Retryable ones are `DependencyUnavailable` (component "erp"), so the API answers 503.
"""

from __future__ import annotations

from typing import ClassVar

from core.errors import DependencyUnavailable, NotFound, RestockError


class ErpError(RestockError):
    retryable: ClassVar[bool] = False
    retry_after: float | None = None


class ErpUnavailable(ErpError, DependencyUnavailable):
    """The ERP did not answer usefully (connection refused, 5xx, maintenance)."""

    retryable = True
    code = "erp_unavailable"

    def __init__(
        self, detail: str, *, retry_after: float | None = None, public: str | None = None
    ) -> None:
        """The ERP's own answer (`detail`) is shown to callers, the buyer included: it names
        no address. A transport error passes a `public` line without the library's text."""
        DependencyUnavailable.__init__(self, "erp", detail, public=public or detail)
        self.retry_after = retry_after


class ErpTimeout(ErpUnavailable):
    """The ERP did not answer in time; for a submission the order may or may not exist."""

    code = "erp_timeout"


class ErpRateLimited(ErpUnavailable):
    code = "erp_rate_limited"


class ErpRejected(ErpError):
    """The ERP refused the request by a business rule; retrying will not help."""

    status_code = 409
    code = "erp_rejected"

    def __init__(self, erp_code: str, message: str, *, http_status: int | None = None) -> None:
        super().__init__(f"ERP rejected the request: {erp_code}: {message}")
        self.erp_code = erp_code
        self.erp_message = message
        self.http_status = http_status


class ErpNotFound(ErpError, NotFound):
    code = "erp_not_found"

    def __init__(self, detail: str, *, erp_code: str | None = None) -> None:
        NotFound.__init__(self, detail)
        self.erp_code = erp_code


class ErpAuthFailed(ErpError):
    """The ERP refused our credentials: a configuration problem, not a transient one."""

    status_code = 502
    code = "erp_auth_failed"


class ErpBadData(ErpError):
    """The ERP answered with something we cannot read (broken JSON, wrong shape, bad field)."""

    status_code = 502
    code = "erp_bad_data"
