"""What Restock answers a buyer's message, and what it does on the buyer's behalf.

A message read as a decision goes through the cycle's own Updates, with the user's role and
approval limit, exactly as the portal sends them: the cycle's validator decides, and its
refusal is told in words. The Update's id comes from the channel's message id, so a message
delivered twice is one decision. No database transaction is held while the cycle answers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from channels.catalogue import Product, choices_in, choices_text, matches
from channels.intents import HELP_TEXT, Intent, Reading, Scope
from core.errors import Conflict, DependencyUnavailable, InvalidInput, NotFound, Pending
from services.additions import added_products
from services.cycle_control import cycle_status, send_update
from services.drafts import get_draft, save_draft
from store import channels as messages_repo
from store import snapshots
from store.base import utcnow
from store.db import unit_of_work
from workflows.contract import names
from workflows.contract.cycle import (
    OVER_LIMIT_FIELD,
    AddedProduct,
    ApproveRequest,
    ApproveResult,
    Authority,
    CycleState,
    CycleStatus,
    OrderView,
    ProposeRequest,
    RecommendationView,
    RejectRequest,
)

T = TypeVar("T")
Choice = TypeVar("Choice", ApproveRequest, ProposeRequest)
CHOICES_OPEN = timedelta(hours=24)  # a list of choices is answered by number within this
_FIELD_PREFIX = re.compile(r"^[a-z_][a-z0-9_.]*: ")


@dataclass(frozen=True)
class Sender:
    """The customer user a message came from (its number is theirs, verified by ops)."""

    username: str
    customer_id: int
    authority: Authority
    user_id: int | None = None

    @property
    def actor(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class Answer:
    text: str
    outcome: str
    """What happened, for the audit log: answered, asked, drafted, approved, rejected,
    refused, pending, proposed."""
    version: int | None = None
    over_limit: bool = False
    """A refused approval above the sender's approval limit: it can be proposed."""

    def of(self, version: int, refused: str, sent: str) -> Answer:
        """A refusal or an unconfirmed decision from `_decide`, told in words."""
        if self.outcome == "refused":
            return Answer(f"{refused}: {self.text}", "refused", version)
        return Answer(
            f"{sent} is sent, but the review did not confirm it in time; reply STATUS in a minute.",
            "pending",
            version,
        )


@dataclass(frozen=True)
class Conversation:
    client: Client
    rpc_timeout: timedelta
    public_url: str
    sessions: async_sessionmaker[AsyncSession]

    async def answer(self, sender: Sender, reading: Reading, message_id: str) -> Answer:
        if reading.intent is Intent.HELP:
            return Answer(HELP_TEXT, "answered")
        if reading.intent is Intent.ASK:
            return Answer(reading.question or HELP_TEXT, "answered")
        try:
            state = await cycle_status(self.client, sender.customer_id, self.rpc_timeout)
        except NotFound:
            return Answer(
                "No review is open now; the next one comes on your schedule, and you will be "
                "told when it waits for you.",
                "answered",
            )
        except (Conflict, DependencyUnavailable):
            return Answer("Restock cannot reach your review right now; try again soon.", "failed")
        if reading.intent is Intent.STATUS:
            return Answer(self._status(sender, state), "answered")
        rec = state.recommendation
        if state.status is not CycleStatus.AWAITING_APPROVAL or rec is None:
            return Answer(
                f"Nothing waits for a decision: the review is {_words(state.status)}.",
                "answered",
            )
        if reading.intent is Intent.URGENT:
            return Answer(_urgent(rec), "answered", rec.version)
        if reading.intent is Intent.ADD:
            return await self._add_named(sender, rec, reading)
        if reading.intent is Intent.CHOICE:
            return await self._choose(sender, rec, reading, message_id)
        if reading.intent is Intent.APPROVE:
            return await self._approve(sender, rec, reading, message_id)
        if reading.intent is Intent.PROPOSE:
            return await self._propose(sender, rec, reading, message_id)
        if reading.intent is Intent.REJECT:
            return await self._reject(sender, rec, reading, message_id)
        return Answer(HELP_TEXT, "answered")

    async def _approve(
        self, sender: Sender, rec: RecommendationView, reading: Reading, message_id: str
    ) -> Answer:
        request = await self._chosen(sender, rec, reading, ApproveRequest, "Not approved")
        if isinstance(request, Answer):
            return request
        outcome = await self._decide(sender, names.APPROVE, request, ApproveResult, message_id)
        if isinstance(outcome, Answer):
            if outcome.over_limit:
                return Answer(
                    f"Not approved: {outcome.text}. Reply {_choice_words('PROPOSE', reading)} "
                    "to send it to them.",
                    "refused",
                    rec.version,
                )
            return outcome.of(
                rec.version,
                "Not approved",
                "Your approval is sent, but the review did not confirm it in time; reply "
                "STATUS in a minute to see its orders.",
            )
        return Answer(_approved(outcome, len(request.edits)), "approved", rec.version)

    async def _propose(
        self, sender: Sender, rec: RecommendationView, reading: Reading, message_id: str
    ) -> Answer:
        """A choice for an approver to decide (above the sender's limit, or for a second
        pair of eyes): the cycle holds it and tells the approvers whose limit covers it."""
        request = await self._chosen(sender, rec, reading, ProposeRequest, "Not proposed")
        if isinstance(request, Answer):
            return request
        outcome = await self._decide(sender, names.PROPOSE, request, CycleState, message_id)
        if isinstance(outcome, Answer):
            return outcome.of(rec.version, "Not proposed", "Your proposal")
        return Answer(_proposed(outcome, rec.version), "proposed", rec.version)

    async def _chosen(
        self,
        sender: Sender,
        rec: RecommendationView,
        reading: Reading,
        kind: type[Choice],
        refused_as: str,
    ) -> Choice | Answer:
        """The approval or proposal of the containers a message names, with the draft's
        changes to them, as the sender; or the answer when it cannot be sent (nothing urgent
        to name, a draft the containers refuse)."""
        containers = _containers(rec, reading)
        if isinstance(containers, Answer):
            return containers
        try:
            edits, added = await self._drafted(sender, rec, containers)
        except (Conflict, InvalidInput) as refused:
            return Answer(f"{refused_as}: {_plain(refused.detail)}", "refused", rec.version)
        return kind(
            version=rec.version,
            containers=containers,
            edits=edits,
            added=added,
            actor=sender.actor,
            authority=sender.authority,
        )

    async def _drafted(
        self, sender: Sender, rec: RecommendationView, containers: list[int] | None
    ) -> tuple[dict[str, int], list[AddedProduct]]:
        """The draft's changes an approval of these containers takes, as the portal sends
        them: the chosen containers' lines and the products added (the others wait)."""
        chosen = set(containers if containers is not None else [c.index for c in rec.containers])
        in_chosen = {ln.product_code for c in rec.containers if c.index in chosen for ln in c.lines}
        in_rec = {ln.product_code for c in rec.containers for ln in c.lines}
        async with self.sessions() as session:
            draft = (await get_draft(session, sender.customer_id, rec.version)).edits
            edits = {c: q for c, q in draft.items() if c in in_chosen or c not in in_rec}
            added = await added_products(session, sender.customer_id, rec.version, edits)
        return edits, added

    async def _add_named(self, sender: Sender, rec: RecommendationView, reading: Reading) -> Answer:
        if (refused := _may_change(sender, rec)) is not None:
            return refused
        async with self.sessions() as session:
            catalogue = [
                Product(code, name)
                for code, name in await snapshots.catalogue_names(session, sender.customer_id)
            ]
        quantity = reading.quantity or 0
        found = matches(reading.product or "", catalogue)
        if not found:
            return Answer(
                f'I found no product like "{reading.product}". Reply ADD {quantity} and the '
                f"product's code, or look it up: {self._link(sender)}",
                "answered",
                rec.version,
            )
        if len(found) > 1:
            return Answer(choices_text(quantity, found), "asked", rec.version)
        return await self._add(sender, rec, found[0], quantity)

    async def _choose(
        self, sender: Sender, rec: RecommendationView, reading: Reading, message_id: str
    ) -> Answer:
        """A bare number: the product of that number in the choices last listed."""
        async with self.sessions() as session:
            last = (
                None
                if sender.user_id is None
                else await messages_repo.last_answered(
                    session, sender.user_id, before=message_id, since=utcnow() - CHOICES_OPEN
                )
            )
            # Only the message just before, and only the list it asked: a number sent again,
            # or after anything else, picks nothing.
            asked = last[1] if last is not None and last[0] == Intent.ADD.value else ""
            listed = choices_in(asked)
            code = None if listed is None else listed[1].get(reading.choice or 0)
            known = (
                {}
                if code is None
                else await snapshots.product_names(session, sender.customer_id, [code])
            )
        if listed is None or code is None or code not in known:
            return Answer(
                "Which one do you mean? I have no numbered choices open for you. " + HELP_TEXT,
                "answered",
                rec.version,
            )
        if (refused := _may_change(sender, rec)) is not None:
            return refused
        return await self._add(sender, rec, Product(code, known[code]), listed[0])

    async def _add(
        self, sender: Sender, rec: RecommendationView, product: Product, quantity: int
    ) -> Answer:
        """Add cartons to the waiting version's draft, by the draft's own rules: a line of the
        recommendation gets them on top, another product is added to it."""
        suggested = sum(
            ln.quantity for c in rec.containers for ln in c.lines if ln.product_code == product.code
        )
        try:
            async with unit_of_work(self.sessions) as session:
                draft = (await get_draft(session, sender.customer_id, rec.version)).edits
                total = draft.get(product.code, suggested) + quantity
                await save_draft(
                    session, sender.customer_id, rec.version, {product.code: total}, sender.actor
                )
        except (Conflict, InvalidInput, NotFound) as refused:
            return Answer(f"Not added: {_plain(refused.detail)}", "refused", rec.version)
        return Answer(
            f"Added {quantity:,} cartons of {product.name} ({product.code}): "
            f"{total:,} in your draft of recommendation v{rec.version}. Reply APPROVE ALL (or "
            "name the containers) to order it; the containers must still hold it, so lower "
            f"another line if they are full: {self._link(sender)}",
            "drafted",
            rec.version,
        )

    async def _reject(
        self, sender: Sender, rec: RecommendationView, reading: Reading, message_id: str
    ) -> Answer:
        if sender.authority.role not in ("ops", "approver"):
            return Answer(
                f"Only an approver may reject; your role is {sender.authority.role}.",
                "refused",
                rec.version,
            )
        request = RejectRequest(
            version=rec.version, reason=reading.reason or "", actor=sender.actor
        )
        outcome = await self._decide(sender, names.REJECT, request, CycleState, message_id)
        if isinstance(outcome, Answer):
            return outcome.of(rec.version, "Not rejected", "Your rejection")
        return Answer(
            f"Rejected recommendation v{rec.version} ({reading.reason}). Nothing is ordered; "
            "the next review comes on your schedule.",
            "rejected",
            rec.version,
        )

    async def _decide(
        self,
        sender: Sender,
        update: str,
        request: ApproveRequest | ProposeRequest | RejectRequest,
        result_type: type[T],
        message_id: str,
    ) -> T | Answer:
        """Send a decision's Update (its id from the message's, so a redelivery is one
        decision); a refusal or an unconfirmed decision as an Answer to finish in words."""
        try:
            return await send_update(
                self.client,
                sender.customer_id,
                update,
                request,
                result_type=result_type,
                update_id=_update_id(update, sender.customer_id, message_id),
                rpc_timeout=self.rpc_timeout,
            )
        except Conflict as refused:
            over = refused.detail.startswith(f"{OVER_LIMIT_FIELD}:")
            return Answer(_plain(refused.detail), "refused", over_limit=over)
        except Pending:
            return Answer("", "pending")

    def _status(self, sender: Sender, state: CycleState) -> str:
        rec = state.recommendation
        if state.status is CycleStatus.AWAITING_APPROVAL and rec is not None:
            urgent = len(rec.urgent_indexes)
            worth = _worth(rec)
            return (
                f"Recommendation v{rec.version} waits for you: {_count(len(rec.containers))}"
                f", {urgent} urgent{worth}. Reply APPROVE ALL, APPROVE URGENT or APPROVE "
                f"CONTAINERS 1 AND 3, or REJECT and why. Details: {self._link(sender)}"
            )
        orders = "; ".join(_order(o) for o in state.orders)
        return f"The review is {_words(state.status)}." + (f" Orders: {orders}." if orders else "")

    def _link(self, sender: Sender) -> str:
        return f"{self.public_url.rstrip('/')}/customers/{sender.customer_id}/recommendation"


def _containers(rec: RecommendationView, reading: Reading) -> list[int] | Answer | None:
    """The containers an approval or a proposal names (None: all), or the answer when it
    names the urgent ones and none is."""
    if reading.scope is Scope.URGENT:
        if not rec.urgent_indexes:
            verb = reading.intent.value.upper()
            return Answer(
                f"Nothing is urgent in recommendation v{rec.version}: reply {verb} ALL, "
                f"or name the containers ({verb} CONTAINERS 1 AND 3).",
                "answered",
                rec.version,
            )
        return rec.urgent_indexes
    if reading.scope is Scope.CONTAINERS:
        return list(reading.containers)
    return None


def _choice_words(verb: str, reading: Reading) -> str:
    """The reply that makes the same choice with another verb: PROPOSE URGENT."""
    if reading.scope is Scope.CONTAINERS:
        named = reading.containers
        return f"{verb} CONTAINER{'S' if len(named) > 1 else ''} {' AND '.join(map(str, named))}"
    return f"{verb} {'URGENT' if reading.scope is Scope.URGENT else 'ALL'}"


def _proposed(state: CycleState, version: int) -> str:
    proposal = state.proposal
    if proposal is None:  # replaced at once by another proposal
        return f"Your proposal of recommendation v{version} is with the review; reply STATUS."
    rec = state.recommendation
    money = f" {rec.currency}" if rec is not None and rec.currency else ""
    worth = "" if proposal.value is None else f", worth {proposal.value:,.2f}{money}"
    return (
        f"Proposed containers {', '.join(map(str, proposal.containers))} of recommendation "
        f"v{proposal.version}{worth}, to an approver: the approvers whose limit covers it are "
        "told. Nothing is ordered until one approves."
    )


def _may_change(sender: Sender, rec: RecommendationView) -> Answer | None:
    """A refusal for a user who may not change the order (a viewer); None for the others."""
    if sender.authority.may_propose:
        return None
    return Answer(
        f"Only a buyer or an approver may change the order; your role is {sender.authority.role}.",
        "refused",
        rec.version,
    )


def _update_id(kind: str, customer_id: int, message_id: str) -> str:
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:32]
    return f"whatsapp-{kind}-{customer_id}-{digest}"


def _approved(result: ApproveResult, changes: int = 0) -> str:
    drafted = f" with your draft's {changes} change{'' if changes == 1 else 's'}" if changes else ""
    return f"Approved recommendation v{result.version}{drafted}: " + "; ".join(
        _order(o) for o in result.orders
    )


def _order(order: OrderView) -> str:
    if order.erp_order_number:
        eta = f", ETA {order.eta.isoformat()}" if order.eta else ""
        return f"container {order.container_index} is ERP order {order.erp_order_number}{eta}"
    if order.failure:
        return f"container {order.container_index} was not taken by the ERP: {order.failure}"
    return f"container {order.container_index} is being sent to the ERP (retried until it lands)"


def _urgent(rec: RecommendationView) -> str:
    urgent = [c for c in rec.containers if c.urgent]
    if not urgent:
        return f"Nothing is urgent in recommendation v{rec.version}."
    listed = "; ".join(
        f"container {c.index}: {c.cartons:,} cartons of {len(c.lines)} products" for c in urgent
    )
    return f"Urgent in recommendation v{rec.version}: {listed}. Reply APPROVE URGENT to order them."


def _worth(rec: RecommendationView) -> str:
    values = [c.known_value for c in rec.containers]
    if not values or any(v is None for v in values):
        return ""
    total = sum((v for v in values if v is not None), Decimal(0))
    return f", worth {total:,.2f}" + (f" {rec.currency}" if rec.currency else "")


def _count(containers: int) -> str:
    return f"{containers} container" + ("" if containers == 1 else "s")


def _words(status: CycleStatus) -> str:
    return status.value.replace("_", " ")


def _plain(detail: str) -> str:
    """A refusal without the field it names (`version: …`): a message has no fields."""
    return _FIELD_PREFIX.sub("", detail, count=1)
