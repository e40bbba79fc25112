"""Quantities put into a draft in bulk: lines pasted from a spreadsheet (`CODE quantity`),
or the quantities of an earlier order ("order again"). Each goes through the draft's own
rules (`services.drafts.save_draft`); a pasted text with any wrong line keeps nothing.

A product of the customer's catalogue the waiting recommendation does not order is added
(`services.additions`); a code the catalogue does not hold is named, and "order again"
leaves out the products no longer ordered (discontinued or gone), naming them."""

from __future__ import annotations

import codecs
import csv
import io
import re

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput, InvalidLines, NotFound, PayloadTooLarge
from planning.models import ProductStatus
from services.drafts import Draft, get_draft, save_draft
from store import orders as orders_repo
from store import recommendations as recommendations_repo
from store import snapshots

MAX_PASTED_LINES = 5_000
MAX_QUANTITY = 100_000_000  # as a draft's edit
_SEPARATOR = re.compile(r"[\t;,]|\s+")
_QUANTITY = re.compile(r"[0-9]{1,3}(?:([,' ])[0-9]{3})(?:\1[0-9]{3})*|[0-9]{1,12}")
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\ufeff": ""})


class PastedLines(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "P-00017\t2400\nP-00031 0"}]}
    )

    text: str = Field(
        min_length=1,
        max_length=500_000,
        description="One `CODE quantity` per line; tab, comma, semicolon or spaces between; "
        "thousands may be grouped (1,200 or 1 200); a header line is skipped",
    )


class Imported(BaseModel):
    draft: Draft
    applied: dict[str, int] = Field(description="Product code -> the quantity taken")
    skipped: list[str] = Field(
        default_factory=list,
        description="Products of the earlier order that cannot be ordered now (discontinued "
        "or no longer in the catalogue)",
    )


def parse_lines(text: str) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Code -> quantity, and the problems (`line N`, what is wrong)."""
    quantities, problems, _ = _parse(text)
    return quantities, problems


def _parse(text: str) -> tuple[dict[str, int], list[tuple[str, str]], dict[str, int]]:
    """`parse_lines`, with the line each code was read from."""
    quantities: dict[str, int] = {}
    seen: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    lines = text.translate(_SPACES).splitlines()
    if len(lines) > MAX_PASTED_LINES:
        return {}, [("text", f"at most {MAX_PASTED_LINES:,} lines at once")], {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        code, rest = _split(line)
        where = f"line {number}"
        if not rest:
            problems.append((where, f"{line!r}: give a product code and a quantity"))
            continue
        if not _QUANTITY.fullmatch(rest):
            if not seen and not problems and not re.search(r"[0-9]", line):
                continue  # a header line: no number in it, before any line read
            problems.append((where, f"{rest!r} is not a whole number of cartons"))
            continue
        quantity = int(re.sub(r"[^0-9]", "", rest))
        if quantity > MAX_QUANTITY:
            problems.append((where, f"{quantity:,} cartons is more than {MAX_QUANTITY:,}"))
            continue
        if code in seen:
            problems.append((where, f"{code} is listed twice (line {seen[code]} and {number})"))
            continue
        seen[code] = number
        quantities[code] = quantity
    return quantities, problems, seen


def _split(line: str) -> tuple[str, str]:
    """(code, the rest): the code ends at the first tab, comma, semicolon or space; the
    quantity is what follows, less its spaces at the ends."""
    match = _SEPARATOR.search(line)
    if match is None:
        return line, ""
    return line[: match.start()], line[match.end() :].strip(" \t;,")


MAX_CSV_BYTES = 500_000


def csv_as_lines(text: str) -> str:
    """A CSV file's first two columns (code, quantity) as pasted lines, one per row, so the
    pasted lines' rules apply and a problem names the file's own row number. Comma,
    semicolon or tab separated, quoted as spreadsheets export it (`"1,200"`)."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as err:  # an unbalanced quote runs to the end of the file
        raise InvalidInput(f"not a CSV file this can read ({err})", field="file") from None
    return "\n".join("\t".join(cell.strip() for cell in row[:2]) for row in rows)


def decoded_csv(body: bytes) -> str:
    if len(body) > MAX_CSV_BYTES:
        raise PayloadTooLarge(f"file: {len(body):,} bytes; at most {MAX_CSV_BYTES:,}", field="file")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        try:
            return body.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidInput("UTF-16 text that does not decode", field="file") from None
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return body.decode("cp1252")  # Excel's "CSV" on Windows
        except UnicodeDecodeError:
            raise InvalidInput("not a text file (UTF-8 or Windows-1252)", field="file") from None


async def paste(
    session: AsyncSession,
    customer_id: int,
    version: int,
    text: str,
    actor: str,
    *,
    field: str = "text",
) -> Imported:
    """`field` names the input in errors: `text` pasted, `file` uploaded."""
    quantities, problems, line_of = _parse(text)
    if not problems and not quantities:
        problems = [(field, "no line with a product code and a quantity")]
    lines = await _version_codes(session, customer_id, version)
    known = lines | await _catalogue_codes(session, customer_id, set(line_of) - lines)
    problems += [
        (f"line {number}", f"{code} is not a product of this customer (as of the latest sync)")
        for code, number in line_of.items()
        if code not in known
    ]
    if problems:
        raise InvalidLines(sorted(problems, key=_line_order), field=field)
    draft = await save_draft(session, customer_id, version, dict(quantities), actor)
    return Imported(draft=draft, applied=quantities)


async def order_again(
    session: AsyncSession, customer_id: int, version: int, order_id: int, actor: str
) -> Imported:
    """The quantities of an earlier order, for every product of it still ordered: a line of
    the waiting version takes it, another product is added."""
    order = await orders_repo.get_order(session, customer_id, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found", field="order_id")
    lines = await _version_codes(session, customer_id, version)
    ordered: dict[str, int] = {}
    for line in order.lines:
        code = str(line["product_code"])
        ordered[code] = ordered.get(code, 0) + int(line["quantity"])
    orderable = lines | await _catalogue_codes(
        session, customer_id, set(ordered) - lines, active_only=True
    )
    applied = {code: qty for code, qty in ordered.items() if code in orderable}
    draft = (
        await save_draft(session, customer_id, version, dict(applied), actor)
        if applied
        else await get_draft(session, customer_id, version)
    )
    return Imported(draft=draft, applied=applied, skipped=sorted(set(ordered) - set(applied)))


async def _catalogue_codes(
    session: AsyncSession, customer_id: int, codes: set[str], *, active_only: bool = False
) -> set[str]:
    """Which of `codes` the customer's catalogue holds (those still ordered, if `active_only`)."""
    if not codes:
        return set()
    products = await snapshots.products_by_code(session, customer_id, sorted(codes))
    return {
        p.code
        for p in products
        if not active_only or p.product_status != ProductStatus.DISCONTINUED.value
    }


async def _version_codes(session: AsyncSession, customer_id: int, version: int) -> set[str]:
    header = await recommendations_repo.header_row(session, customer_id, version)
    if header is None:
        raise NotFound(f"recommendation v{version} not found", field="version")
    return {
        str(line["product_code"])
        for line in await recommendations_repo.all_line_rows(session, header["id"])
    }


def _line_order(problem: tuple[str, str]) -> tuple[int, str]:
    where = problem[0]
    return (int(where.split()[1]), "") if where.startswith("line ") else (0, where)
