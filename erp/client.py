"""The async ERP connector: one shared httpx client, pagination, mapping, typed errors.

GETs are idempotent, so they get a few quick retries (honouring Retry-After up to a small cap).
Submissions are never retried here: the orchestration retries them with the same idempotency
key, which the ERP uses to return the first order instead of creating a second.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import ValidationError

from core import tracing
from core.metrics import ERP_CALLS, ERP_LATENCY
from core.settings import Settings
from erp.errors import (
    ErpAuthFailed,
    ErpBadData,
    ErpError,
    ErpNotFound,
    ErpRateLimited,
    ErpRejected,
    ErpTimeout,
    ErpUnavailable,
)
from erp.mapping import EndpointName, ErpMapping, FieldError, MappingError, load_mapping
from erp.models import ErpSnapshot, IssueReason, OrderSubmission, SubmissionReceipt
from erp.pacing import RequestPacer
from erp.validation import ReportBuilder, SnapshotValidator
from planning.models import (
    PIPELINE_STATUSES,
    ConsumptionReport,
    CustomerProfile,
    ErpOrder,
    OrderStatus,
    Product,
    Shipment,
)

Json = Any
ACTIVITY_WEEKS = 52
CREDIT_FIELDS = frozenset({"currency", "credit_limit", "open_balance", "payment_terms"})
"""The customer's credit position: a bad value of one is left out and reported, not fatal."""
"""Weeks of product activity a sync reads when the caller does not say from when."""


def activity_window_start(business_date: date, weeks: int = ACTIVITY_WEEKS) -> date:
    """The Monday `weeks` weeks before the week of `business_date`: the start of its last
    `weeks` complete weeks."""
    return business_date - timedelta(days=business_date.weekday(), weeks=weeks)


def build_http_client(settings: Settings) -> httpx.AsyncClient:
    """The one httpx client a process shares for ERP calls (build it in the lifespan)."""
    timeout = settings.erp_timeout_seconds
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )
    tracing.instrument_http(client)
    return client


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class ErpClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        mapping: ErpMapping | None = None,
        get_retries: int = 2,
        max_retry_wait: float = 2.0,
        order_history_days: int = 365,
        pacer: RequestPacer | None = None,
    ) -> None:
        self._http = http
        self.pacer = pacer
        self.base_url = base_url.rstrip("/")
        self.mapping = mapping or ErpMapping.default()
        auth = self.mapping.spec.auth
        self._headers = {auth.header: f"{auth.prefix}{api_key}"}
        self.get_retries = get_retries
        self.max_retry_wait = max_retry_wait
        self.order_history_days = order_history_days

    build_http_client = staticmethod(build_http_client)

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.AsyncClient) -> ErpClient:
        return cls(
            http,
            base_url=settings.erp_base_url,
            api_key=settings.erp_api_key,
            mapping=load_mapping(settings.erp_mapping_file),
            pacer=RequestPacer(
                settings.erp_max_requests_per_second, settings.erp_max_concurrent_calls
            ),
        )

    # -- HTTP --------------------------------------------------------------------------------

    def _slot(self) -> AbstractAsyncContextManager[None]:
        return self.pacer.slot() if self.pacer is not None else nullcontext()

    def _url(self, endpoint: EndpointName, **params: str) -> EndpointUrl:
        return EndpointUrl(self.base_url + self.mapping.path(endpoint, **params), endpoint)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Json = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        endpoint = url.endpoint if isinstance(url, EndpointUrl) else "other"
        try:
            async with self._slot():
                started = time.perf_counter()
                try:
                    response = await self._http.request(
                        method,
                        url,
                        params=params,
                        json=body,
                        headers={**self._headers, **(headers or {})},
                    )
                finally:
                    ERP_LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        except httpx.TimeoutException as exc:
            ERP_CALLS.labels(endpoint, "timeout").inc()
            raise ErpTimeout(f"{method} {url} timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            ERP_CALLS.labels(endpoint, "unreachable").inc()
            raise ErpUnavailable(
                f"{method} {url}: {type(exc).__name__}: {exc}",
                public=f"{method} {url}: no connection ({type(exc).__name__})",
            ) from exc
        status = response.status_code
        ERP_CALLS.labels(endpoint, "ok" if status < 400 else f"http_{status}").inc()
        if status >= 400:
            raise self._error(response)
        return response

    def _error(self, response: httpx.Response) -> ErpError:
        status = response.status_code
        spec = self.mapping.spec.errors
        code, message = f"HTTP_{status}", response.reason_phrase or ""
        try:
            payload = json.loads(response.content)
            if isinstance(payload, dict):
                code = str(payload.get(spec.code) or code)
                message = str(payload.get(spec.message) or message)
        except ValueError:
            pass
        where = f"{response.request.method} {response.request.url.path}"
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            return ErpRateLimited(f"{where}: rate limited ({code})", retry_after=retry_after)
        if status >= 500:
            return ErpUnavailable(
                f"{where}: HTTP {status} {code}: {message}", retry_after=retry_after
            )
        if status in (401, 403):
            return ErpAuthFailed(f"{where}: the ERP refused our credentials ({code}: {message})")
        if status == 404:
            return ErpNotFound(f"{where}: {message}", erp_code=code)
        return ErpRejected(code, message, http_status=status)

    async def _get(self, url: str, params: Mapping[str, str | int] | None = None) -> Json:
        attempt = 0
        while True:
            try:
                response = await self._send("GET", url, params=params)
                return _json(response)
            except ErpUnavailable as exc:
                wait = exc.retry_after if exc.retry_after is not None else 0.2 * 2**attempt
                if attempt >= self.get_retries or wait > self.max_retry_wait:
                    raise
                attempt += 1
                await asyncio.sleep(wait)

    def _business_date(self, document: Json) -> date | None:
        field = self.mapping.business_date
        if field is None or not isinstance(document, Mapping):
            return None
        value = field.raw(document)
        if value in (None, ""):
            return None
        try:
            day: date = field.convert(value)
        except ValueError as exc:
            raise ErpBadData(f"business date {field.erp}: {exc}", field="business_date") from None
        return day

    async def _pages(
        self, endpoint: EndpointName, params: Mapping[str, str | int] | None = None, **path: str
    ) -> tuple[list[Json], date | None]:
        """Every row of a listing: the first page says how many pages follow; those are fetched
        concurrently (bounded)."""
        spec = self.mapping.spec.pagination
        url = self._url(endpoint, **path)
        base = {**(params or {}), spec.size_param: spec.page_size}

        async def fetch(number: int) -> tuple[list[Json], int, Json]:
            document = await self._get(url, {**base, spec.page_param: number})
            if not isinstance(document, Mapping):
                raise ErpBadData(f"{url}: a page must be an object, got {type(document).__name__}")
            rows, total = document.get(spec.rows), document.get(spec.total_pages)
            if not isinstance(rows, list):
                raise ErpBadData(f"{url}: page field {spec.rows} is not a list", field=spec.rows)
            if not isinstance(total, int) or isinstance(total, bool) or total < 0:
                raise ErpBadData(
                    f"{url}: page field {spec.total_pages} is not a page count",
                    field=spec.total_pages,
                )
            return rows, total, document

        rows, total, first = await fetch(spec.first_page)
        rest = range(spec.first_page + 1, spec.first_page + total)
        if rest:
            limit = asyncio.Semaphore(spec.concurrency)

            async def bounded(number: int) -> list[Json]:
                async with limit:
                    return (await fetch(number))[0]

            for page_rows in await asyncio.gather(*(bounded(n) for n in rest)):
                rows.extend(page_rows)
        return rows, self._business_date(first)

    # -- reads -------------------------------------------------------------------------------

    async def ping(self) -> None:
        """Cheap health check; raises ErpUnavailable (or another ErpError) when not healthy."""
        await self._send("GET", self._url("ping"))

    async def _customer(
        self, code: str, report: ReportBuilder | None = None
    ) -> tuple[CustomerProfile, date | None]:
        """The customer's master data. A bad value of the credit position (CREDIT_FIELDS)
        is left out and reported in `report`; any other bad field fails (ErpBadData)."""
        document = await self._get(self._url("customer", customer=code))
        entity = self.mapping.entity("customer")
        skipped: set[str] = set()
        for _ in range(len(CREDIT_FIELDS) + 1):
            field: str | None = None
            failure: Exception
            try:
                values = entity.convert(document, skip=frozenset(skipped))
                return CustomerProfile.model_validate(values), self._business_date(document)
            except FieldError as exc:
                field, problem, failure = exc.field, str(exc), exc
            except ValidationError as exc:
                first = exc.errors()[0]
                field = str(first["loc"][0]) if first["loc"] else None
                problem, failure = f"{field}: {first['msg']}", exc
            if field not in CREDIT_FIELDS or field in skipped or report is None:
                raise ErpBadData(f"customer {code}: {failure}", field=field) from None
            detail = f"{problem}; left out"
            report.issue(IssueReason.BAD_VALUE, "customer", code, detail, field=field)
            skipped.add(field)
        raise ErpBadData(f"customer {code}: its credit position cannot be read")

    async def get_customer(self, code: str) -> CustomerProfile:
        return (await self._customer(code))[0]

    def _validator(self, as_of: date | None) -> SnapshotValidator:
        return SnapshotValidator(self.mapping, as_of=as_of or date.today(), report=ReportBuilder())

    def _since(self, since: date | None) -> dict[str, str | int]:
        if since is None:
            return {}
        return {self.mapping.spec.filters.since_param: self.mapping.format_filter_date(since)}

    def _statuses(self, statuses: Collection[OrderStatus] | None) -> dict[str, str | int]:
        filters = self.mapping.spec.filters
        if not statuses or filters.status_param is None:
            return {}
        codes = sorted(self.mapping.status_codes[s] for s in statuses)
        return {filters.status_param: filters.status_separator.join(codes)}

    async def list_products(self, code: str) -> list[Product]:
        rows, as_of = await self._pages("products", customer=code)
        return self._validator(as_of).products(rows)

    async def list_shipments(self, code: str, since: date | None = None) -> list[Shipment]:
        rows, as_of = await self._pages("shipments", self._since(since), customer=code)
        return self._validator(as_of).shipments(rows, None)

    async def list_activity(self, code: str, since: date | None = None) -> list[ConsumptionReport]:
        """Weekly product activity (EDI 852 style) for complete weeks starting on or after
        `since` (all the ERP has when None). MappingError when the ERP has none."""
        if not self.mapping.has_activity:
            raise MappingError(f"mapping {self.mapping.source} has no activity endpoint")
        rows, as_of = await self._pages("activity", self._since(since), customer=code)
        return self._validator(as_of).activity(rows, None)

    async def list_open_orders(self, code: str) -> list[ErpOrder]:
        """Approved orders the ERP has not shipped yet."""
        rows, as_of = await self._pages("open_orders", customer=code)
        return self._validator(as_of).orders(rows, None)

    async def list_orders(
        self,
        code: str,
        since: date | None = None,
        statuses: Collection[OrderStatus] | None = None,
    ) -> list[ErpOrder]:
        """Order history with status, ordered on or after `since`."""
        params = {**self._since(since), **self._statuses(statuses)}
        rows, as_of = await self._pages("orders", params, customer=code)
        orders = self._validator(as_of).orders(rows, None)
        return [o for o in orders if not statuses or o.status in statuses]

    async def get_order(self, code: str, order_number: str) -> ErpOrder:
        document = await self._get(self._url("order", customer=code, order_number=order_number))
        return self._order(document, f"order {order_number}")

    def _order(self, document: Json, what: str) -> ErpOrder:
        entity = self.mapping.entity("order")
        try:
            return ErpOrder.model_validate(entity.convert(document))
        except FieldError as exc:
            raise ErpBadData(f"{what}: {exc}", field=exc.field) from None
        except ValueError as exc:
            raise ErpBadData(f"{what}: {exc}") from None

    # -- the snapshot ------------------------------------------------------------------------

    async def sync_snapshot(
        self, code: str, as_of: date | None = None, *, activity_since: date | None = None
    ) -> ErpSnapshot:
        """Everything one cycle needs, fetched concurrently and validated against each other.

        `as_of` is the date rows are checked against ("in the future"); by default the ERP's
        own business date. When the mapping has the activity endpoint, the ERP's weekly
        product activity is read too, for complete weeks starting on or after
        `activity_since` (by default the last 52 weeks before that date).
        """
        report = ReportBuilder()
        profile, erp_date = await self._customer(code, report)
        erp_as_of = erp_date or date.today()
        reference = as_of or erp_as_of
        window = {**self._since(reference - timedelta(days=self.order_history_days))}
        listings = [
            self._pages("products", customer=code),
            self._pages("shipments", customer=code),
            self._pages("orders", window, customer=code),
            self._pages("orders", self._statuses(PIPELINE_STATUSES), customer=code),
        ]
        reported = self.mapping.has_activity
        since = (activity_since or activity_window_start(reference)) if reported else None
        optional: dict[str, int] = {}
        if reported:
            optional["activity"] = len(listings)
            listings.append(self._pages("activity", self._since(since), customer=code))
        if self.mapping.has_prices:
            optional["prices"] = len(listings)
            listings.append(self._pages("prices", customer=code))
        fetched = [rows for rows, _ in await asyncio.gather(*listings)]
        items, shipments, history, pipeline = fetched[:4]
        validator = SnapshotValidator(self.mapping, as_of=reference, report=report)
        products = validator.products(items)
        by_code = {p.code: p for p in products}
        known = {o.get(self._order_key) for o in history if isinstance(o, Mapping)}
        extra = [
            o for o in pipeline if isinstance(o, Mapping) and o.get(self._order_key) not in known
        ]
        return ErpSnapshot(
            customer_code=code,
            profile=profile,
            products=products,
            shipments=validator.shipments(shipments, by_code),
            orders=validator.orders(history + extra, by_code),
            consumption=validator.activity(fetched[optional["activity"]], by_code)
            if reported
            else [],
            consumption_reported=reported,
            consumption_since=since,
            prices=validator.prices(fetched[optional["prices"]], by_code, profile.currency)
            if "prices" in optional
            else [],
            prices_reported="prices" in optional,
            data_quality=report.build(),
            synced_at=datetime.now(UTC),
            erp_as_of=erp_as_of,
        )

    @property
    def _order_key(self) -> str:
        return self.mapping.entity("order").by_name["order_number"].erp

    # -- writes ------------------------------------------------------------------------------

    async def submit_order(
        self, code: str, request: OrderSubmission, idempotency_key: str
    ) -> SubmissionReceipt:
        """Send an order once. Never retried here: on ErpTimeout the caller retries with the
        same idempotency key, and the ERP answers with the order it already has."""
        if not idempotency_key:
            raise ValueError("idempotency_key must not be empty")
        spec = self.mapping.spec.submit
        payload = self.mapping.entity("submission").write(
            {
                "reference": request.reference or idempotency_key,
                "lines": [line.model_dump() for line in request.lines],
            },
            self.mapping,
        )
        response = await self._send(
            "POST",
            self._url("submit", customer=code),
            body=payload,
            headers={spec.idempotency_header: idempotency_key},
        )
        order = self._order(_json(response), "submission receipt")
        replay_header = response.headers.get(spec.replay_header) if spec.replay_header else None
        return SubmissionReceipt(
            order_number=order.order_number,
            status=order.status,
            ordered_on=order.ordered_on,
            eta=order.eta,
            idempotency_key=idempotency_key,
            replayed=(replay_header or "").strip().lower() == "true",
        )


class EndpointUrl(str):
    """A URL of the ERP that knows which of the mapping's endpoints it is (the metrics'
    label: one per endpoint, not one per customer or order)."""

    endpoint: str

    def __new__(cls, url: str, endpoint: str) -> EndpointUrl:
        made = super().__new__(cls, url)
        made.endpoint = endpoint
        return made


def _json(response: httpx.Response) -> Json:
    try:
        return json.loads(response.content)
    except ValueError as exc:
        where = f"{response.request.method} {response.request.url.path}"
        raise ErpBadData(f"{where}: the ERP sent a body that is not JSON ({exc})") from None


@asynccontextmanager
async def open_erp_client(settings: Settings) -> AsyncIterator[ErpClient]:
    """An ErpClient on its own shared httpx client, closed on exit (process start-up helper)."""
    http = build_http_client(settings)
    try:
        yield ErpClient.from_settings(settings, http)
    finally:
        await http.aclose()
