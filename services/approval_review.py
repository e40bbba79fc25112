"""The review step before an approval: exactly what would be sent to the ERP.

The buyer's chosen containers and edits are checked by the rules the cycle's validator
applies (the planner's quantity rules, the container count) and packed as the approval
packs them, so what the review shows is what the ERP receives: one order per container.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidInput, NotFound
from planning.approval import approved_containers
from planning.edits import validate_quantities
from planning.errors import InvalidQuantity
from planning.models import Product
from planning.packing import Limits
from planning.schemas import Container
from services.additions import added_products, as_product, with_added
from services.customer_settings import plan_settings
from services.recommend import chosen_items, to_version
from services.schemas import RecommendationVersion
from store import customer_settings as settings_repo
from store import recommendations as recommendations_repo
from store.models import RecommendationStatus


class ReviewLine(BaseModel):
    product_code: str
    name: str
    quantity: int


class ReviewContainer(BaseModel):
    """One ERP order."""

    index: int
    urgent: bool
    cartons: int
    fill_pct: float
    weight_kg: float | None = None
    volume_m3: float | None = None
    lines: list[ReviewLine]


class ReviewChange(BaseModel):
    product_code: str
    name: str
    suggested: int
    quantity: int


class ApprovalReview(BaseModel):
    version: int
    erp_orders: int = Field(description="Orders the ERP will receive: one per container")
    cartons: int
    suggested_cartons: int = Field(description="Cartons of the chosen containers as suggested")
    weight_kg: float | None = None
    volume_m3: float | None = None
    containers: list[ReviewContainer]
    changes: list[ReviewChange] = Field(description="Edited quantities against the suggestion")
    left_out: list[int] = Field(description="Containers not chosen: re-planned next review")
    left_out_cartons: int
    left_out_containers: list[ReviewContainer] = Field(
        default_factory=list, description="The containers not chosen, with their lines"
    )
    summary: str


async def review_approval(
    session: AsyncSession,
    customer_id: int,
    version: int,
    containers: Sequence[int] | None,
    edits: Mapping[str, int],
) -> ApprovalReview:
    """What approving `version` with these containers and edits would send. What the cycle
    would refuse raises Conflict (HTTP 409, as the approval's refusal) with the field named,
    in the cycle's words."""
    try:
        return await _review_approval(session, customer_id, version, containers, edits)
    except InvalidInput as err:
        raise as_refusal(err) from err


def as_refusal(err: InvalidInput) -> Conflict:
    """A rule an edit breaks, as the cycle says it: 409 naming `edits.<code>` (or the field)."""
    if isinstance(err, InvalidQuantity):
        field = f"edits.{err.product_code}"
        return Conflict(f"{field}: {err.problem}", field=field, code=err.code)
    return Conflict(f"{err.field}: {err.detail}", field=err.field, code=err.code)


async def _review_approval(
    session: AsyncSession,
    customer_id: int,
    version: int,
    containers: Sequence[int] | None,
    edits: Mapping[str, int],
) -> ApprovalReview:
    record = await recommendations_repo.get_version(session, customer_id, version)
    if record is None:
        raise NotFound(f"recommendation v{version} not found")
    if record.status != RecommendationStatus.CURRENT.value:
        raise Conflict(f"version: v{version} is {record.status}, not waiting for a decision")
    rec = to_version(record)
    settings = rec.settings or plan_settings(
        await settings_repo.get_or_create(session, customer_id)
    )
    chosen = _chosen(rec, containers)
    by_code = {line.product_code: line for line in rec.lines}
    in_chosen = {cl.product_code for c in rec.containers if c.index in chosen for cl in c.lines}
    not_chosen = sorted(code for code in edits if code in by_code and code not in in_chosen)
    if not_chosen:
        raise InvalidInput("not a line of the chosen containers", field=f"edits.{not_chosen[0]}")
    new = {code: qty for code, qty in edits.items() if code not in by_code}
    added = await added_products(session, customer_id, version, new)
    products = [
        Product(
            code=code,
            name=by_code[code].name,
            pack_size=by_code[code].pack_size,
            moq=by_code[code].moq,
            carton_weight_kg=by_code[code].carton_weight_kg,
            carton_volume_m3=by_code[code].carton_volume_m3,
        )
        for code in in_chosen
    ] + [as_product(a) for a in added]
    validate_quantities(edits, products, settings)
    items = with_added(chosen_items(rec, chosen), added)
    suggested: dict[str, int] = {}
    for container in items:
        for item in container:
            suggested[item.product_code] = suggested.get(item.product_code, 0) + item.quantity
    if all(edits.get(code, qty) == 0 for code, qty in suggested.items()):
        raise InvalidInput(
            "every quantity is zero; reject the recommendation instead", field="edits"
        )
    packed = (
        approved_containers(items, edits, Limits.from_settings(settings))
        if edits
        else [c for c in rec.containers if c.index in chosen]
    )
    names = {line.product_code: line.name for line in rec.lines}
    names.update({a.product_code: a.name for a in added})
    return _review(rec, chosen, packed, suggested, edits, names)


def _chosen(rec: RecommendationVersion, containers: Sequence[int] | None) -> list[int]:
    known = [c.index for c in rec.containers]
    if containers is None:
        return known
    if not containers:
        raise InvalidInput("choose at least one container to approve", field="containers")
    unknown = sorted(set(containers) - set(known))
    if unknown:
        raise InvalidInput(
            f"no container {unknown[0]} in version {rec.version}", field="containers"
        )
    if len(set(containers)) != len(containers):
        raise InvalidInput("a container is chosen twice", field="containers")
    return sorted(containers)


def _review(
    rec: RecommendationVersion,
    chosen: list[int],
    packed: Sequence[Container],
    suggested: Mapping[str, int],
    edits: Mapping[str, int],
    names: Mapping[str, str],
) -> ApprovalReview:
    orders = [_review_container(c, names) for c in packed]
    changes = [
        ReviewChange(product_code=code, name=names[code], suggested=suggested[code], quantity=qty)
        for code, qty in sorted(edits.items())
        if qty != suggested.get(code)
    ]
    left_out = [c for c in rec.containers if c.index not in set(chosen)]
    cartons = sum(c.cartons for c in orders)
    weights = [c.weight_kg for c in orders if c.weight_kg is not None]
    volumes = [c.volume_m3 for c in orders if c.volume_m3 is not None]
    return ApprovalReview(
        version=rec.version,
        erp_orders=len(orders),
        cartons=cartons,
        suggested_cartons=sum(suggested.values()),
        weight_kg=round(sum(weights), 1) if weights else None,
        volume_m3=round(sum(volumes), 2) if volumes else None,
        containers=orders,
        changes=changes,
        left_out=[c.index for c in left_out],
        left_out_cartons=sum(c.cartons for c in left_out),
        left_out_containers=[_review_container(c, names) for c in left_out],
        summary=_summary(orders, changes, left_out),
    )


def _review_container(c: Container, names: Mapping[str, str]) -> ReviewContainer:
    return ReviewContainer(
        index=c.index,
        urgent=c.urgent,
        cartons=c.cartons,
        fill_pct=c.fill_pct,
        weight_kg=c.weight_kg,
        volume_m3=c.volume_m3,
        lines=[
            ReviewLine(
                product_code=cl.product_code, name=names[cl.product_code], quantity=cl.quantity
            )
            for cl in c.lines
        ],
    )


def _summary(
    orders: Sequence[ReviewContainer],
    changes: Sequence[ReviewChange],
    left_out: Sequence[Container],
) -> str:
    count = len(orders)
    text = (
        f"{count} ERP order{'' if count == 1 else 's'} will be sent, one per container: "
        f"{sum(c.cartons for c in orders):,} cartons"
    )
    text += (
        f", {len(changes)} edited quantit{'y' if len(changes) == 1 else 'ies'}." if changes else "."
    )
    if left_out:
        indexes = ", ".join(str(c.index) for c in left_out)
        text += (
            f" Container{'' if len(left_out) == 1 else 's'} {indexes} "
            f"({sum(c.cartons for c in left_out):,} cartons) "
            f"{'is' if len(left_out) == 1 else 'are'} not approved: "
            f"{'its' if len(left_out) == 1 else 'their'} products come back at the next "
            "review, re-planned."
        )
    return text
