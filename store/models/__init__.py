"""ORM tables. Only `store/` sees these; other layers get pydantic schemas.

Importing this package registers every table on `Base.metadata` (Alembic's env relies on it).
"""

from __future__ import annotations

from store.models.accounts import CustomerRole, LoginFailure, NotifyBy, RevokedToken, Role, User
from store.models.audit import AuditEntry
from store.models.channels import ChannelDelivery, ChannelMessage
from store.models.customers import Customer, CustomerSettings
from store.models.cycles import Cycle
from store.models.orders import (
    ErpEventReceipt,
    Order,
    OrderEvent,
    OrderSource,
    OrderStatus,
    OrderStatusChange,
)
from store.models.recommendations import (
    RecommendationContainer,
    RecommendationDraft,
    RecommendationLine,
    RecommendationRecord,
    RecommendationStatus,
)
from store.models.snapshots import PlanStatus, ProductSnooze, Snapshot, SnapshotProduct

__all__ = [
    "AuditEntry",
    "ChannelDelivery",
    "ChannelMessage",
    "Customer",
    "CustomerRole",
    "CustomerSettings",
    "Cycle",
    "ErpEventReceipt",
    "LoginFailure",
    "NotifyBy",
    "Order",
    "OrderEvent",
    "OrderSource",
    "OrderStatus",
    "OrderStatusChange",
    "PlanStatus",
    "ProductSnooze",
    "RecommendationContainer",
    "RecommendationDraft",
    "RecommendationLine",
    "RecommendationRecord",
    "RecommendationStatus",
    "RevokedToken",
    "Role",
    "Snapshot",
    "SnapshotProduct",
    "User",
]
