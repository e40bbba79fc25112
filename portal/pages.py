"""Portal and ops console pages.

Each page calls the same route functions the JSON API serves, so a page shows exactly what
the API returns and tenancy is enforced by the same dependencies (another customer's page is
the 404 page). Decisions (approve, reject, retry, cancel, settings) are made by the page's
JavaScript through the JSON API with the CSRF header; the pages read, the API writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import tokens
from api.auth.deps import (
    MAX_ID,
    SESSION_COOKIE,
    CustomerRecordDep,
    CustomerRecordScope,
    OpsCustomerScopeDep,
    OpsDep,
    PrincipalDep,
    principal_for,
)
from api.auth.origin import refuse_cross_site_login
from api.auth.session import log_in, log_out
from api.deps import ResourcesDep, SessionDep, SettingsDep, WorksheetQueryDep
from core.errors import Forbidden, InvalidInput, Unauthorized
from core.settings import Settings
from core.temporal import temporal_ui_url
from portal.charts import shipments_chart, stock_chart
from portal.render import page_context, render
from services import customer_settings
from services.accounts import PASSWORD_MAX, USERNAME_MAX, LoginThrottled
from services.banners import cycle_banner
from services.customer_settings import CustomerSettingsValues
from services.data_quality import latest_report
from services.erp_messages import ERP_FAILURES, UNKNOWN
from services.order_views import order_view
from services.proposals import waiting_proposal
from services.risk import AT_RISK, LABELS, OVERSTOCKED, Risk
from services.shipment_views import all_shipments, customer_shipments
from services.views.customers import dashboard
from services.views.products import SortOrder, list_products, product_detail
from services.views.recommendations import current_and_versions
from services.worksheet import LineFilter, SortKey, WorksheetQuery, worksheet
from store import audit as audit_repo
from store import cycles as cycles_repo
from store import orders as orders_repo
from store import recommendations as recommendations_repo
from store.models import OrderStatus, PlanStatus, Role
from store.overview import CustomerOverview, customer_overview
from store.pagination import PageRequest
from store.snapshots import ProductSort
from workflows.contract.cycle import FINAL_STATUSES, CycleStatus

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
LINES_PAGE_SIZE = 100
# Statuses in which the recommendation page follows the cycle live.
LIVE_STATUSES = frozenset(
    {
        CycleStatus.APPROVING,
        CycleStatus.SUBMITTING,
        CycleStatus.SUBMISSION_FAILED,
        CycleStatus.TRACKING,
        CycleStatus.REFRESHING,
        CycleStatus.SYNCING,
        CycleStatus.PLANNING,
    }
)
OPS_PAGE_SIZE = 200
SHIPMENTS_SHOWN = 50  # open shipments on a page, late first
OPS_FILTERS = {
    "waiting": {CycleStatus.AWAITING_APPROVAL},
    "failed": {CycleStatus.SUBMISSION_FAILED, CycleStatus.FAILED},
    "expired": {CycleStatus.EXPIRED},
    "open": set(CycleStatus) - FINAL_STATUSES,
}
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
SearchText = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")]
ProductCode = Annotated[str, Path(min_length=1, max_length=64)]
# A filter `<select>` sends `status=` for "all": empty means no filter, not a bad value.
FormChoice = Annotated[str | None, Query(max_length=32)]
E = TypeVar("E", bound=StrEnum)


def choice(enum: type[E], value: str | None, field: str) -> E | None:
    if not value:
        return None
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise InvalidInput(f"{field}: {value!r} is not one of {allowed}", field=field) from None


@dataclass(frozen=True)
class OpsRow:
    overview: CustomerOverview
    temporal_url: str | None

    @property
    def status(self) -> CycleStatus | None:
        cycle = self.overview.cycle
        return None if cycle is None else CycleStatus(cycle.status)


async def _customer_page(
    request: Request,
    session: AsyncSession,
    scope: CustomerRecordScope,
    settings: Settings,
    template: str,
    *,
    nav: str,
    **context: Any,
) -> Response:
    """A page about one customer: the nav links to its pages, and a banner says when its
    cycle is in trouble."""
    return render(
        request,
        template,
        page_context(
            scope.principal,
            settings,
            customer=scope.customer,
            customer_id=scope.customer_id,
            nav=nav,
            banner=await cycle_banner(session, scope.customer_id),
            **context,
        ),
    )


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site may be a post-login target: no scheme, no host, and no
    control character or backslash a browser would strip or bend into `//host`."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _home(role: Role, customer_id: int | None) -> str:
    if role is Role.OPS or customer_id is None:
        return "/ops"
    return f"/customers/{customer_id}"


def page_count(total: int, size: int) -> int:
    return -(-total // size)


async def _form(request: Request) -> dict[str, str]:
    """A urlencoded form's first value per field (no multipart dependency for two forms)."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    return {name: values[0] for name, values in fields.items()}


# --- login / logout ------------------------------------------------------------------------


@router.get("/")
async def home(principal: PrincipalDep) -> RedirectResponse:
    return RedirectResponse(_home(principal.role, principal.customer_id), status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str | None = None, expired: bool = False) -> Response:
    notice = "Your session expired; log in again to continue." if expired else None
    return render(
        request, "login.html", {"next": _safe_next(next), "username": "", "notice": notice}
    )


@router.post("/login")
async def login_submit(request: Request, resources: ResourcesDep) -> Response:
    try:
        refuse_cross_site_login(request, resources.settings, api=False)
    except Forbidden as refused:
        refusal = {"next": None, "username": "", "error": refused.detail}
        return render(request, "login.html", refusal, status_code=403)
    form = await _form(request)
    username = form.get("username", "").strip()
    password = form.get("password", "")
    target = _safe_next(form.get("next"))
    context: dict[str, Any] = {"next": target, "username": username}
    if not username or not password:
        missing = "username" if not username else "password"
        context["error"] = f"Enter your {missing}."
        return render(request, "login.html", context, status_code=422)
    if len(username) > USERNAME_MAX or len(password) > PASSWORD_MAX:
        context["username"] = ""
        context["error"] = (
            f"Usernames have at most {USERNAME_MAX} characters, passwords at most {PASSWORD_MAX}."
        )
        return render(request, "login.html", context, status_code=422)
    response = Response(status_code=303)
    try:
        started = await log_in(
            resources,
            response,
            username=username,
            password=password,
            client=request.client.host if request.client else "unknown",
        )
    except LoginThrottled as err:
        context["error"] = f"Too many failed logins. Try again in {err.retry_after_seconds} s."
        page = render(request, "login.html", context, status_code=429)
        page.headers["Retry-After"] = str(err.retry_after_seconds)
        return page
    except Unauthorized:
        context["error"] = "Wrong username or password."
        return render(request, "login.html", context, status_code=401)
    user = started.user
    redirect = RedirectResponse(target or _home(Role(user.role), user.customer_id), 303)
    redirect.raw_headers.extend(h for h in response.raw_headers if h[0] == b"set-cookie")
    return redirect


@router.post("/logout")
async def logout_submit(
    request: Request, session: SessionDep, settings: SettingsDep
) -> RedirectResponse:
    """A plain form post (works without JavaScript); the form carries the CSRF token."""
    response = RedirectResponse("/login", status_code=303)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return response
    form = await _form(request)
    try:
        claims = tokens.decode(settings, token)
        principal = await principal_for(session, claims, via_cookie=True)
    except Unauthorized:
        return response  # the session had already ended
    if not tokens.csrf_matches(settings, claims.jti, form.get("csrf", "")):
        raise Forbidden("missing or wrong CSRF token; reload the page", code="csrf_failed")
    await log_out(session, settings, response, principal)
    return response


# --- customer portal -----------------------------------------------------------------------


@router.get("/customers/{customer_id}")
async def dashboard_page(
    request: Request, scope: CustomerRecordDep, session: SessionDep, settings: SettingsDep
) -> Response:
    board = await dashboard(session, scope.customer_id)
    cycle = board.customer.cycle
    waiting = (
        board.recommendation is not None
        and cycle is not None
        and cycle.status == CycleStatus.AWAITING_APPROVAL.value
    )
    return await _customer_page(
        request,
        session,
        scope,
        settings,
        "dashboard.html",
        nav="dashboard",
        risk_labels={r.value: text for r, text in LABELS.items()},
        board=board,
        waiting=waiting,
    )


@router.get("/customers/{customer_id}/recommendation")
async def recommendation_page(
    request: Request,
    scope: CustomerRecordDep,
    session: SessionDep,
    settings: SettingsDep,
    query: WorksheetQueryDep,
    page: PageNumber = 1,
) -> Response:
    # The lines come from the worksheet; the detail is read for its header and containers.
    result = await current_and_versions(session, scope.customer_id, PageRequest(1, 1), False)
    cycle = await cycles_repo.latest_cycle(session, scope.customer_id)
    status = CycleStatus(cycle.status) if cycle is not None else None
    current = result.current
    decidable = current is not None and status is CycleStatus.AWAITING_APPROVAL
    proposal = (
        await waiting_proposal(session, scope.customer_id, current.version)
        if decidable and current is not None
        else None
    )
    latest = result.versions[0] if result.versions else None
    sheet = None
    if current is not None:
        header = await recommendations_repo.header_row(session, scope.customer_id, current.version)
        assert header is not None
        sheet = await worksheet(session, scope.customer_id, header, query, page, LINES_PAGE_SIZE)
    return await _customer_page(
        request,
        session,
        scope,
        settings,
        "recommendation.html",
        nav="recommendation",
        current=current,
        latest=latest,
        versions=result.versions,
        cycle=cycle,
        cycle_status=status,
        decidable=decidable and scope.principal.may_edit,
        read_only=decidable and not scope.principal.may_edit,
        may_reject=scope.principal.may_reject,
        proposal=proposal,
        proposal_approvable=proposal is not None
        and proposal.approvable_by(scope.principal.authority),
        live=status in LIVE_STATUSES,
        sheet=sheet,
        erp_failures={**ERP_FAILURES, "": UNKNOWN},
        drafts={}
        if sheet is None
        else {
            code: {"qty": d.quantity, "base": d.suggested, "home": d.container}
            for code, d in sheet.drafts.items()
        },
        query=query,
        query_string=_worksheet_query_string(query),
        sort_columns=SORT_COLUMNS,
        page=page,
        pages=0 if sheet is None else page_count(sheet.total, LINES_PAGE_SIZE),
    )


AT_RISK_CHOICE, OVERSTOCKED_CHOICE = "at_risk", "overstocked"
RISK_GROUPS = {AT_RISK_CHOICE: AT_RISK, OVERSTOCKED_CHOICE: OVERSTOCKED}


def _risk_filter(value: str | None) -> list[str]:
    """The products page's risk choice: one risk, or a group of them."""
    if value in RISK_GROUPS:
        return sorted(r.value for r in RISK_GROUPS[value])
    one = choice(Risk, value, "risk")
    return [] if one is None else [one.value]


# Column heading -> sort key, in the worksheet's column order (None: not sortable).
SORT_COLUMNS: list[tuple[str, SortKey | None]] = [
    ("Product", SortKey.PRODUCT),
    ("Quantity", SortKey.QUANTITY),
    ("Suggested", SortKey.SUGGESTED),
    ("Pull-forward", SortKey.PULL_FORWARD),
    ("Container", SortKey.CONTAINER),
    ("On hand", SortKey.ON_HAND),
    ("On order (next arrival)", SortKey.ON_ORDER),
    ("Forecast / week", SortKey.FORECAST),
    ("Cover with orders (weeks)", SortKey.COVER_NOW),
    ("Cover at arrival (weeks)", SortKey.COVER_AT_ARRIVAL),
    ("Target", SortKey.TARGET),
    ("Why", None),
]


def _worksheet_query_string(query: WorksheetQuery) -> str:
    """The worksheet's query as URL parameters (defaults left out), for links and exports."""
    params: dict[str, str] = {}
    if query.sort is not SortKey.POSITION:
        params["sort"] = query.sort.value
    if query.descending:
        params["desc"] = "true"
    if query.search:
        params["q"] = query.search
    if query.show is not LineFilter.ALL:
        params["show"] = query.show.value
    if query.container is not None:
        params["container"] = str(query.container)
    return urlencode(params)


@router.get("/customers/{customer_id}/products")
async def products_page(
    request: Request,
    scope: CustomerRecordDep,
    session: SessionDep,
    settings: SettingsDep,
    page: PageNumber = 1,
    q: SearchText = None,
    status: FormChoice = None,
    risk: FormChoice = None,
    sort: ProductSort = ProductSort.RUN_OUT,
    order: SortOrder = SortOrder.ASC,
) -> Response:
    plan_status = choice(PlanStatus, status, "status")
    result = await list_products(
        session,
        scope.customer_id,
        PageRequest(page, PAGE_SIZE),
        search=q,
        statuses=[] if plan_status is None else [plan_status.value],
        risks=_risk_filter(risk),
        sort=sort,
        order=order,
    )
    return await _customer_page(
        request,
        session,
        scope,
        settings,
        "products.html",
        nav="products",
        products=result,
        q=q or "",
        status=status or "",
        risk=risk or "",
        risk_choices=[
            (AT_RISK_CHOICE, "at risk (any of the next three)"),
            *((r.value, LABELS[r]) for r in Risk),
            (OVERSTOCKED_CHOICE, "overstocked (excess or too much on order)"),
        ],
        sort=sort.value,
        order=order.value,
        sorts=list(ProductSort),
        pages=page_count(result.total, PAGE_SIZE),
    )


@router.get("/customers/{customer_id}/products/{code}")
async def product_page(
    request: Request,
    scope: CustomerRecordDep,
    session: SessionDep,
    settings: SettingsDep,
    code: ProductCode,
) -> Response:
    product = await product_detail(session, scope.customer_id, code)
    return await _customer_page(
        request,
        session,
        scope,
        settings,
        "product.html",
        nav="products",
        product=product,
        today=datetime.now(UTC).date(),
        stock_svg=stock_chart(
            product.projected_stock,
            product.target_cartons,
            safety=product.safety_stock_cartons,
            arrivals=product.arrivals,
        ),
        shipments_svg=shipments_chart(product.weekly_shipments, product.weekly_forecast),
    )


@router.get("/customers/{customer_id}/orders")
async def orders_page(
    request: Request,
    scope: CustomerRecordDep,
    session: SessionDep,
    settings: SettingsDep,
    page: PageNumber = 1,
    status: FormChoice = None,
) -> Response:
    order_status = choice(OrderStatus, status, "status")
    result = await orders_repo.list_orders(
        session,
        scope.customer_id,
        PageRequest(page, PAGE_SIZE),
        statuses=[] if order_status is None else [order_status.value],
        with_lines=False,  # the page shows no lines; a large customer's ERP orders are big
    )
    shipments = await customer_shipments(
        session, scope.customer_id, PageRequest(1, SHIPMENTS_SHOWN)
    )
    return await _customer_page(
        request,
        session,
        scope,
        settings,
        "orders.html",
        nav="orders",
        orders=result,
        shipments=shipments,
        status=status or "",
        statuses=list(OrderStatus),
        page=page,
        pages=page_count(result.total, PAGE_SIZE),
    )


@router.get("/customers/{customer_id}/orders/{order_id}")
async def order_page(
    request: Request,
    scope: CustomerRecordDep,
    session: SessionDep,
    settings: SettingsDep,
    order_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    return await _customer_page(
        request,
        session,
        scope,
        settings,
        "order.html",
        nav="orders",
        order=await order_view(session, scope.customer_id, order_id),
        waiting=await _waiting_version(session, scope.customer_id)
        if scope.principal.may_edit
        else None,
    )


async def _waiting_version(session: AsyncSession, customer_id: int) -> int | None:
    """The version a decision waits on, if any: an order's quantities can be drafted in it."""
    header = await recommendations_repo.header_row(session, customer_id)
    cycle = await cycles_repo.latest_cycle(session, customer_id)
    if header is None or cycle is None or cycle.status != CycleStatus.AWAITING_APPROVAL.value:
        return None
    return int(header["version"])


# --- ops console ---------------------------------------------------------------------------


@router.get("/ops")
async def ops_page(
    request: Request,
    principal: OpsDep,
    session: SessionDep,
    settings: SettingsDep,
    show: Annotated[str | None, Query(pattern="^(all|waiting|failed|expired|open)$")] = None,
    page: PageNumber = 1,
) -> Response:
    overview = await customer_overview(session, PageRequest(page, OPS_PAGE_SIZE))
    rows = [
        OpsRow(
            row,
            None
            if row.cycle is None
            else temporal_ui_url(settings, row.cycle.workflow_id, row.cycle.run_id),
        )
        for row in overview.items
    ]
    counts = {
        name: sum(1 for r in rows if r.status in wanted) for name, wanted in OPS_FILTERS.items()
    }
    if show and show != "all":
        rows = [r for r in rows if r.status in OPS_FILTERS[show]]
    shipments = await all_shipments(session, PageRequest(1, SHIPMENTS_SHOWN), settings=settings)
    late = await all_shipments(session, PageRequest(1, 1), settings=settings, late_only=True)
    return render(
        request,
        "ops.html",
        page_context(
            principal,
            settings,
            rows=rows,
            shipments=shipments,
            late_shipments=late.total,
            show=show or "all",
            counts=counts,
            total=overview.total,
            page=page,
            pages=page_count(overview.total, OPS_PAGE_SIZE),
            nav="ops",
        ),
    )


@router.get("/ops/customers/{customer_id}/settings")
async def settings_page(
    request: Request, scope: OpsCustomerScopeDep, session: SessionDep, settings: SettingsDep
) -> Response:
    values = await customer_settings.read(session, scope.customer)
    return render(
        request,
        "settings.html",
        page_context(
            scope.principal,
            settings,
            customer=scope.customer,
            fields=settings_fields(values),
            nav="ops",
        ),
    )


@router.get("/ops/customers/{customer_id}/data-quality")
async def data_quality_page(
    request: Request, scope: OpsCustomerScopeDep, session: SessionDep, settings: SettingsDep
) -> Response:
    return render(
        request,
        "data_quality.html",
        page_context(
            scope.principal,
            settings,
            customer=scope.customer,
            latest=await latest_report(session, scope.customer_id),
            nav="ops",
        ),
    )


@router.get("/ops/audit")
async def audit_page(
    request: Request,
    principal: OpsDep,
    session: SessionDep,
    settings: SettingsDep,
    customer: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    page: PageNumber = 1,
) -> Response:
    entries = await audit_repo.list_entries(
        session, PageRequest(page, PAGE_SIZE), customer_id=customer
    )
    return render(
        request,
        "audit.html",
        page_context(
            principal,
            settings,
            entries=entries,
            customer_filter=customer,
            pages=page_count(entries.total, PAGE_SIZE),
            page=page,
            nav="ops",
        ),
    )


SETTING_LABELS = {
    "timezone": "Time zone",
    "target_soh_weeks": "Target stock (weeks of cover)",
    "target_soh_overrides": "Per-product targets (weeks, JSON by code)",
    "lead_time_weeks": "Lead time (weeks)",
    "measure_lead_time": "Measure lead time from deliveries",
    "safety_stock_mode": "Safety stock rule",
    "safety_weeks": "Safety stock (weeks)",
    "service_level": "Service level (0.5-1)",
    "forecast_method": "Forecast method",
    "container_capacity_cartons": "Container capacity (cartons)",
    "container_max_weight_kg": "Container weight limit (kg)",
    "container_max_volume_m3": "Container volume limit (m³)",
    "last_container": "Last container not full",
    "cycles_enabled": "Scheduled cycles on",
    "cadence_weeks": "Cycle every (weeks)",
    "cycle_weekday": "Cycle weekday",
    "cycle_hour": "Cycle hour (local)",
    "approval_timeout_hours": "Approval expires after (hours)",
    "reminder_hours": "Remind every (hours)",
    "auto_approve": "Auto-approve urgent containers",
    "auto_approve_after_hours": "Auto-approve after (hours)",
    "auto_approve_max_cartons": "Auto-approve at most (cartons)",
    "auto_approve_max_containers": "Auto-approve at most (containers)",
    "auto_approve_max_value": "Auto-approve at most (value)",
}


@cache
def _settings_schema() -> dict[str, Any]:
    return CustomerSettingsValues.model_json_schema()


def settings_fields(values: CustomerSettingsValues) -> list[dict[str, Any]]:
    """The settings form, generated from the schema so it cannot drift from the API."""
    schema = _settings_schema()
    fields = []
    for name, info in CustomerSettingsValues.model_fields.items():
        prop = schema["properties"][name]
        value = getattr(values, name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a whole number of weeks reads as "6", not "6.0"
        kinds = {p.get("type") for p in prop.get("anyOf", [prop])} | (
            {"enum"} if "$ref" in str(prop) or "enum" in prop else set()
        )
        if "enum" in kinds:
            ref = prop.get("$ref") or next(p["$ref"] for p in prop["anyOf"] if "$ref" in p)
            options = schema["$defs"][ref.rsplit("/", 1)[1]]["enum"]
            kind = "select"
        elif "boolean" in kinds:
            kind, options = "checkbox", []
        elif "object" in kinds:
            kind, options = "json", []
        elif "integer" in kinds or "number" in kinds:
            kind, options = "number", []
        else:
            kind, options = "text", []
        fields.append(
            {
                "name": name,
                "label": SETTING_LABELS.get(name, name.replace("_", " ").capitalize()),
                "kind": kind,
                "options": options,
                "value": value,
                "nullable": "null" in kinds,
                "integer": "integer" in kinds,
                "help": info.description or "",
            }
        )
    return fields
