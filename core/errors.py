"""The small error hierarchy that maps onto HTTP once, in `api.errors`.

Services raise these; routes never build HTTP errors by hand. `field` names the
input that is wrong (dotted path) when there is one.
"""

from __future__ import annotations


class RestockError(Exception):
    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code is not None:
            self.code = code


class NotFound(RestockError):
    """The object does not exist, or belongs to another tenant."""

    status_code = 404
    code = "not_found"


class Pending(RestockError):
    """Sent, but its outcome was not known by the deadline; the detail says how to follow it
    up (HTTP 202)."""

    status_code = 202
    code = "pending"


class Conflict(RestockError):
    status_code = 409
    code = "conflict"


class InvalidInput(RestockError):
    status_code = 422
    code = "invalid_input"


class InvalidLines(InvalidInput):
    """Several lines of one input are wrong: each is named (`problems`), nothing is kept."""

    def __init__(self, problems: list[tuple[str, str]], *, field: str) -> None:
        first_field, first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first_field}: {first}{more}", field=field)
        self.problems = [{"field": f, "problem": problem} for f, problem in problems]


class PayloadTooLarge(RestockError):
    status_code = 413
    code = "payload_too_large"


class Unauthorized(RestockError):
    status_code = 401
    code = "unauthorized"


class Forbidden(RestockError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(RestockError):
    status_code = 429
    code = "too_many_requests"


class DependencyUnavailable(RestockError):
    """A component we depend on (database, Temporal, ERP) is down."""

    status_code = 503
    code = "dependency_unavailable"

    def __init__(self, component: str, detail: str, *, public: str | None = None) -> None:
        """`detail` (addresses, library errors) is logged, not answered: callers see the
        component, a stable code and `public`, a safe explanation when there is one."""
        shown = (
            f"{component} is unavailable: {public}"
            if public
            else (f"{component} is unavailable; retry shortly")
        )
        super().__init__(shown)
        self.component = component
        self.internal_detail = f"{component} is unavailable: {detail}"


class ConfigurationError(RestockError):
    """A setting that cannot work as given (a file that cannot be read, …); the message
    names the setting."""

    status_code = 500
    code = "configuration_error"
