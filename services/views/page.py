"""One page of a list, as the API answers it and the portal renders it."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: `items` plus the `total` matching rows."""

    items: list[T]
    total: int = Field(ge=0, examples=[123])
    page: int = Field(ge=1, examples=[1])
    page_size: int = Field(ge=1, examples=[50])
