"""ERP error codes in the buyer's words: what happened, and what happens next.

An order's failure is stored as the connector reports it ("ERP rejected the request:
E_CREDIT_HOLD: customer K-1 is on credit hold"). Pages, the cycle banner and the page's
script show `explain_erp_failure` of it; the raw text stays beside it for ops.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"\bE_[A-Z_]+\b")

OPS_ON_IT = "Our operations team has been told and will retry or cancel it; you need do nothing."
RETRIED = "Restock retries it by itself; you need do nothing."

ERP_FAILURES: dict[str, str] = {
    "E_CREDIT_HOLD": "Your account is on credit hold with the supplier, so the ERP refused "
    "this order. Nothing is ordered until the hold is lifted: contact the supplier's accounts "
    "team. " + OPS_ON_IT,
    "E_ITEM_DISCONTINUED": "A product in this order is discontinued at the supplier, so the "
    "ERP refused it. " + OPS_ON_IT,
    "E_ITEM_UNKNOWN": "A product in this order is unknown to the supplier's ERP, so it refused "
    "the order. " + OPS_ON_IT,
    "E_QTY_MOQ": "A quantity is below the supplier's minimum order, so the ERP refused the "
    "order. " + OPS_ON_IT,
    "E_QTY_PACK": "A quantity is not a whole number of the supplier's packs, so the ERP "
    "refused the order. " + OPS_ON_IT,
    "E_ITEM_DUPLICATE": "The order named a product twice and the ERP refused it. " + OPS_ON_IT,
    "E_NO_LINES": "The order reached the ERP without lines and was refused. " + OPS_ON_IT,
    "E_BAD_REQUEST": "The supplier's ERP could not read the order. " + OPS_ON_IT,
    "E_ORDER_STATE": "The supplier's ERP says the order can no longer change. " + OPS_ON_IT,
    "E_IDEMPOTENCY_KEY_REUSED": "The ERP saw this order's key on a different order. " + OPS_ON_IT,
    "E_MAINTENANCE": "The supplier's ERP is down for maintenance. " + RETRIED,
    "E_RATE_LIMIT": "The supplier's ERP asked us to slow down. " + RETRIED,
    "E_INTERNAL": "The supplier's ERP had an internal error. " + RETRIED,
    "E_AUTH": "Restock cannot sign in to the supplier's ERP; operations is fixing the access. "
    + RETRIED,
}
UNKNOWN = "The supplier's ERP did not take this order{code}. " + OPS_ON_IT


def erp_code(text: str | None) -> str | None:
    match = _CODE.search(text or "")
    return match.group(0) if match else None


def explain_erp_failure(text: str | None) -> str | None:
    """The failure in words; None when there is none."""
    if not text:
        return None
    code = erp_code(text)
    if code in ERP_FAILURES:
        return ERP_FAILURES[code]
    return UNKNOWN.format(code=f" ({code})" if code else "")
