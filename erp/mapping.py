"""The one declared ERP ↔ Restock mapping: endpoints, pagination, field names, types, formats.

A mapping file (YAML, see erp/mappings/default.yaml and docs/erp-api.md) lets an integrator
point Restock at another REST ERP without code changes. Each entity maps our field names to
the ERP's: `name: ERP_FIELD` for plain strings, or a spec with type, format, values, scale.
Specs are compiled once into converters, because syncs convert tens of thousands of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_MAPPING_FILE = Path(__file__).parent / "mappings" / "default.yaml"

FieldType = Literal["str", "int", "float", "decimal", "date", "bool", "enum", "list"]
EndpointName = Literal[
    "ping",
    "customer",
    "products",
    "shipments",
    "activity",
    "prices",
    "open_orders",
    "orders",
    "order",
    "submit",
]
OPTIONAL_ENDPOINTS: frozenset[str] = frozenset({"activity", "prices"})
"""Endpoints an ERP may not have: `activity` (weekly product activity, EDI 852 style) and
`prices` (the customer's price list)."""
ACTIVITY_FIELDS = {"product_code": "str", "week_start": "date", "quantity": "int"}
"""The fields an `activity` entity must map (and their types); `stock_on_hand` is optional."""
PRICE_FIELDS = {
    "product_code": "str",
    "currency": "str",
    "unit_price": "decimal",
    "valid_from": "date",
}
"""The fields a `price` entity must map; `valid_to` and `min_quantity` are optional."""
_LISTING_ENTITIES = {"activity": ("activity", ACTIVITY_FIELDS), "prices": ("price", PRICE_FIELDS)}
ENTITIES = (  # required; `activity`, `price` (with their endpoints), `order_event`: optional
    "customer",
    "contact",
    "product",
    "shipment",
    "order",
    "order_line",
    "submission",
    "submission_line",
)


class MappingError(ValueError):
    """The mapping file itself is wrong."""


class FieldError(ValueError):
    """One ERP value could not be mapped onto our field."""

    def __init__(self, field: str, erp_field: str, problem: str, *, missing: bool) -> None:
        super().__init__(f"{field} (ERP field {erp_field}): {problem}")
        self.field = field
        self.erp_field = erp_field
        self.problem = problem
        self.missing = missing


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSpec(Spec):
    field: str = Field(description="ERP field name; dots reach into nested objects")
    type: FieldType = "str"
    format: str | None = Field(default=None, description="strptime format for dates, or 'iso'")
    values: dict[str, str] | None = Field(default=None, description="ERP code → our value")
    strict: bool = Field(default=True, description="enum: refuse codes not in `values`")
    scale: float | None = Field(default=None, description="Multiply numbers by this")
    optional: bool = False
    default: Any = None
    entity: str | None = Field(default=None, description="For lists: the entity of each item")

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type == "date" and not self.format:
            raise ValueError(f"{self.field}: a date field needs a format")
        if self.type == "enum" and not self.values:
            raise ValueError(f"{self.field}: an enum field needs values")
        if self.type == "list" and not self.entity:
            raise ValueError(f"{self.field}: a list field needs an entity")
        return self


class EntitySpec(Spec):
    key: list[str] = Field(
        default_factory=list, description="ERP fields that identify a row (duplicate detection)"
    )
    fields: dict[str, FieldSpec]

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("fields"), dict):
            data = dict(data)
            data["fields"] = {
                name: {"field": spec} if isinstance(spec, str) else spec
                for name, spec in data["fields"].items()
            }
        return data


class PaginationSpec(Spec):
    page_param: str
    size_param: str
    page_size: int = Field(default=1000, ge=1)
    first_page: int = 1
    rows: str = Field(description="Envelope field holding the rows")
    total_pages: str = Field(description="Envelope field holding the number of pages")
    total_rows: str | None = None
    concurrency: int = Field(default=6, ge=1, le=64)


class FilterSpec(Spec):
    since_param: str
    date_format: str = "%Y-%m-%d"
    status_param: str | None = None
    status_separator: str = ","


class ErrorSpec(Spec):
    code: str
    message: str


class AuthSpec(Spec):
    header: str = "X-Api-Key"
    prefix: str = Field(default="", description="e.g. 'Bearer ' before the key")


class SubmitSpec(Spec):
    idempotency_header: str = "Idempotency-Key"
    replay_header: str | None = Field(
        default=None, description="Response header that is 'true' when the key was seen before"
    )


class MappingSpec(Spec):
    version: Literal[1] = 1
    auth: AuthSpec = AuthSpec()
    endpoints: dict[EndpointName, str]
    pagination: PaginationSpec
    filters: FilterSpec
    business_date: FieldSpec | None = Field(
        default=None, description="Where the ERP states its business date (customer, pages)"
    )
    errors: ErrorSpec
    submit: SubmitSpec = SubmitSpec()
    entities: dict[str, EntitySpec]

    @model_validator(mode="after")
    def _complete(self) -> MappingSpec:
        missing = [name for name in ENTITIES if name not in self.entities]
        if missing:
            raise ValueError(f"entities missing: {', '.join(missing)}")
        absent = [
            e
            for e in EndpointName.__args__  # type: ignore[attr-defined]
            if e not in self.endpoints and e not in OPTIONAL_ENDPOINTS
        ]
        if absent:
            raise ValueError(f"endpoints missing: {', '.join(absent)}")
        for endpoint, (entity_name, required) in _LISTING_ENTITIES.items():
            if endpoint not in self.endpoints:
                continue
            entity = self.entities.get(entity_name)
            if entity is None:
                raise ValueError(f"the {endpoint} endpoint needs an {entity_name} entity")
            for name, kind in required.items():
                spec = entity.fields.get(name)
                if spec is None or spec.type != kind or spec.optional:
                    raise ValueError(f"entity {entity_name} needs a required {kind} field {name!r}")
        return self


Converter = Callable[[Any], Any]


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {value!r}")


def _to_decimal(value: Any) -> Decimal:
    """Money and other exact amounts: text ("1234.50", "1234,50") or a JSON number, read
    from its written form (never through a float)."""
    if isinstance(value, bool):
        raise ValueError(f"expected an amount, got {value!r}")
    if isinstance(value, int | float):
        value = repr(value)
    if not isinstance(value, str):
        raise ValueError(f"expected an amount, got {value!r}")
    try:
        amount = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"expected an amount, got {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"expected an amount, got {value!r}")
    return amount


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise ValueError(f"expected a whole number, got {value!r}")


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return float(value.strip().replace(",", "."))
    raise ValueError(f"expected a number, got {value!r}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "y", "yes", "x"}:
        return True
    if text in {"false", "0", "n", "no", ""}:
        return False
    raise ValueError(f"expected yes/no, got {value!r}")


def date_parser(fmt: str) -> Callable[[Any], date]:
    """A parser for one date format, memoised: ERP listings repeat the same dates a lot."""
    seen: dict[str, date] = {}

    def parse(value: Any) -> date:
        if not isinstance(value, str):
            raise ValueError(f"expected a date as text ({fmt}), got {value!r}")
        hit = seen.get(value)
        if hit is None:
            try:
                if fmt == "iso":
                    hit = date.fromisoformat(value)
                else:
                    hit = datetime.strptime(value, fmt).date()
            except ValueError:
                raise ValueError(f"{value!r} is not a date in format {fmt}") from None
            if len(seen) < 100_000:
                seen[value] = hit
        return hit

    parse.memo = seen  # type: ignore[attr-defined]
    return parse


def date_formatter(fmt: str) -> Callable[[date], str]:
    return date.isoformat if fmt == "iso" else (lambda d: d.strftime(fmt))


class CompiledField:
    __slots__ = ("convert", "default", "erp", "name", "optional", "path", "spec")

    def __init__(self, name: str, spec: FieldSpec, mapping: ErpMapping) -> None:
        self.name = name
        self.spec = spec
        self.erp = spec.field
        self.path = spec.field.split(".") if "." in spec.field else None
        self.optional = spec.optional
        self.default = spec.default
        self.convert = self._converter(spec, mapping)

    def _converter(self, spec: FieldSpec, mapping: ErpMapping) -> Converter:
        base: Converter
        if spec.type == "date":
            base = date_parser(spec.format or "iso")
        elif spec.type == "enum":
            values, strict = spec.values or {}, spec.strict

            def base(value: Any) -> Any:
                key = _to_str(value).strip()
                if key in values:
                    return values[key]
                if strict:
                    raise ValueError(f"unknown code {key!r} (known: {', '.join(values)})")
                return key.lower()

        elif spec.type == "list":
            entity_name = spec.entity or ""

            def base(value: Any) -> Any:
                if not isinstance(value, list):
                    raise ValueError(f"expected a list, got {type(value).__name__}")
                entity = mapping.entity(entity_name)
                return [entity.convert(item) for item in value]

        else:
            base = {
                "str": _to_str,
                "int": _to_int,
                "float": _to_float,
                "decimal": _to_decimal,
                "bool": _to_bool,
            }[spec.type]
        if spec.scale is None:
            return base
        scale, to_int = spec.scale, spec.type == "int"
        number_of: Converter = base
        if spec.type == "decimal":
            exact = Decimal(repr(scale))
            return lambda value: number_of(value) * exact

        def scaled(value: Any) -> Any:
            number = float(number_of(value)) * scale
            return round(number) if to_int else number

        return scaled

    def raw(self, row: Mapping[str, Any]) -> Any:
        if self.path is None:
            return row.get(self.erp)
        value: Any = row
        for part in self.path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value


def _key_getter(keys: list[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    if len(keys) == 1:
        (k0,) = keys
        return lambda row: (row.get(k0),)
    if len(keys) == 2:
        k0, k1 = keys
        return lambda row: (row.get(k0), row.get(k1))
    return lambda row: tuple(row.get(k) for k in keys)


_FAST_TYPES: dict[str, type] = {"str": str, "int": int}


class _NoFastType:
    """The fast type of fields without one: no value is of it (not even None, which must
    reach the missing-value check)."""


_NO_TYPE: type = _NoFastType

Step = tuple[str, str, "CompiledField | None", type, Any, Converter, bool, Any]


def _compile_entity(name: str, fields: list[CompiledField]) -> Callable[[Any], dict[str, Any]]:
    """One converter per entity, its per-field decisions taken once: syncs convert tens of
    thousands of rows. A value that arrives in its field's own type (text, whole numbers)
    is taken as it is; dates are looked up in their parser's memo before it is called."""
    plan: tuple[Step, ...] = tuple(
        (
            f.name,
            f.erp,
            f if f.path is not None else None,
            (_FAST_TYPES.get(f.spec.type) if f.spec.scale is None else None) or _NO_TYPE,
            getattr(f.convert, "memo", None),
            f.convert,
            f.optional,
            f.default,
        )
        for f in fields
    )

    def convert(row: Any) -> dict[str, Any]:
        if type(row) is not dict and not isinstance(row, Mapping):
            raise FieldError(
                name, "-", "expected an object, got " + type(row).__name__, missing=False
            )
        out: dict[str, Any] = {}
        get = row.get
        for field, erp, nested, fast, memo, to_ours, optional, default in plan:
            value = get(erp) if nested is None else nested.raw(row)
            if type(value) is fast:
                out[field] = value
            elif value is None or value == "":
                if not optional:
                    raise FieldError(field, erp, "missing", missing=True)
                if default is not None:
                    out[field] = default
            else:
                hit = memo.get(value) if memo is not None else None
                out[field] = hit if hit is not None else _converted(field, erp, to_ours, value)
        return out

    return convert


def _converted(field: str, erp: str, to_ours: Converter, value: Any) -> Any:
    try:
        return to_ours(value)
    except FieldError as exc:
        raise FieldError(
            field + "." + exc.field, exc.erp_field, exc.problem, missing=exc.missing
        ) from None
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise FieldError(field, erp, str(exc), missing=False) from None


class EntityMap:
    """Converts raw ERP rows of one entity into dicts keyed by our field names."""

    def __init__(self, name: str, spec: EntitySpec, mapping: ErpMapping) -> None:
        self.name = name
        self.spec = spec
        self.fields = [CompiledField(n, s, mapping) for n, s in spec.fields.items()]
        self.by_name = {f.name: f for f in self.fields}
        self.key_fields = spec.key
        self._plans: dict[frozenset[str], Callable[[Any], dict[str, Any]]] = {}
        self.key_values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = _key_getter(spec.key)
        """The row's identifying ERP values (empty when the entity declares no key)."""

    def converter(self, skip: frozenset[str] = frozenset()) -> Callable[[Any], dict[str, Any]]:
        """The compiled row converter (raises FieldError naming our field and the ERP's)."""
        plan = self._plans.get(skip)
        if plan is None:
            plan = self._plans[skip] = _compile_entity(
                self.name, [f for f in self.fields if f.name not in skip]
            )
        return plan

    def convert(self, row: Any, *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        return self.converter(skip)(row)

    def raw(self, row: Mapping[str, Any], name: str) -> Any:
        return self.by_name[name].raw(row)

    def key(self, row: Mapping[str, Any]) -> str | None:
        if not self.key_fields:
            return None
        return "/".join(str(v) for v in self.key_values(row))

    def write(self, values: Mapping[str, Any], mapping: ErpMapping) -> dict[str, Any]:
        """Our values → an ERP payload (for requests we send)."""
        out: dict[str, Any] = {}
        for f in self.fields:
            value = values.get(f.name)
            if value is None:
                continue
            spec = f.spec
            if spec.type == "list":
                entity = mapping.entity(spec.entity or "")
                value = [entity.write(item, mapping) for item in value]
            elif spec.type == "date":
                value = date_formatter(spec.format or "iso")(value)
            elif spec.type == "enum" and spec.values:
                reverse = {ours: theirs for theirs, ours in spec.values.items()}
                value = reverse.get(str(value), value)
            elif spec.type == "decimal":
                value = str(value / Decimal(repr(spec.scale)) if spec.scale else value)
            elif spec.scale:
                value = value / spec.scale
            out[f.erp] = value
        return out


class ErpMapping:
    """A loaded, compiled mapping. Build with `default()`, `from_file()` or `from_dict()`."""

    def __init__(self, spec: MappingSpec, *, source: str = "<dict>") -> None:
        self.spec = spec
        self.source = source
        self._entities = {name: EntityMap(name, s, self) for name, s in spec.entities.items()}
        self.format_filter_date = date_formatter(spec.filters.date_format)
        self.business_date = (
            CompiledField("business_date", spec.business_date, self) if spec.business_date else None
        )
        status = spec.entities["order"].fields.get("status")
        values = status.values if status is not None and status.values else {}
        self.status_codes = {ours: theirs for theirs, ours in values.items()}
        """Our order status → the ERP's code, for status filters."""

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<dict>") -> ErpMapping:
        try:
            return cls(MappingSpec.model_validate(data), source=source)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise MappingError(f"invalid ERP mapping {source}: {problems}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> ErpMapping:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise MappingError(f"cannot read ERP mapping {path}: {exc}") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def default(cls) -> ErpMapping:
        return _default_mapping()

    @property
    def has_activity(self) -> bool:
        """True when the ERP reports weekly product activity (the optional `activity`
        endpoint, EDI 852 style): consumption per item and week."""
        return "activity" in self.spec.endpoints

    @property
    def has_prices(self) -> bool:
        """True when the ERP serves the customer's price list (the optional `prices`
        endpoint)."""
        return "prices" in self.spec.endpoints

    def entity(self, name: str) -> EntityMap:
        try:
            return self._entities[name]
        except KeyError:
            raise MappingError(f"mapping {self.source} has no entity {name!r}") from None

    def path(self, endpoint: EndpointName, **params: str) -> str:
        from urllib.parse import quote

        template = self.spec.endpoints.get(endpoint)
        if template is None:
            raise MappingError(f"mapping {self.source} has no {endpoint!r} endpoint")
        return template.format(**{k: quote(v, safe="") for k, v in params.items()})


@lru_cache(maxsize=1)
def _default_mapping() -> ErpMapping:
    return ErpMapping.from_file(DEFAULT_MAPPING_FILE)


def load_mapping(path: str | Path | None) -> ErpMapping:
    """The mapping at `path` (e.g. Settings.erp_mapping_file), or the default one."""
    return ErpMapping.default() if path is None else ErpMapping.from_file(path)
