from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.accounts import PASSWORD_MAX, USERNAME_MAX
from store.models import CustomerRole, Role

Username = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=USERNAME_MAX, strip_whitespace=True, pattern=r"^[^\x00]+$"
    ),
]
Password = Annotated[
    str, StringConstraints(min_length=1, max_length=PASSWORD_MAX, pattern=r"^[^\x00]+$")
]


class LoginRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"username": "buyer@k-10040", "password": "a long passphrase"}]
        },
    )

    username: Username
    password: Password


class TokenResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…",
                    "token_type": "bearer",
                    "expires_at": "2026-11-22T10:30:00Z",
                    "csrf_token": "5f1c…",
                }
            ]
        }
    )

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    csrf_token: str = Field(
        description="Send as X-CSRF-Token on unsafe requests that use the session cookie"
    )


class Me(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": 3, "username": "buyer@k-10040", "role": "customer", "customer_id": 1}
            ]
        }
    )

    id: int
    username: str
    role: Role
    customer_id: int | None = Field(
        description="The one customer a customer user sees; null for ops"
    )
    customer_role: CustomerRole | None = Field(
        default=None,
        description="viewer (reads) | buyer (edits, proposes) | approver; null for ops",
    )
    approval_limit: Decimal | None = Field(
        default=None, description="The most this user approves at once; null: no limit"
    )


class LoggedOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "logged_out"}]})

    status: str = "logged_out"
