"""A table (a header row, then rows) as the CSV and XLSX files every export offers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def to_csv(rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row]
        )
    return out.getvalue().encode("utf-8-sig")  # the BOM lets spreadsheet programs read UTF-8


def encode(rows: Sequence[Sequence[Any]], extension: str, title: str) -> bytes:
    """The table as the file `extension` names (`csv` or `xlsx`; `title` names the sheet)."""
    return to_csv(rows) if extension == "csv" else to_xlsx(rows, title)


def attachment(name: str, extension: str) -> dict[str, str]:
    """The headers that offer an export as a download named `name.extension`."""
    return {
        "Content-Type": EXPORTS[extension],
        "Content-Disposition": f'attachment; filename="{name}.{extension}"',
    }


def to_xlsx(rows: Sequence[Sequence[Any]], title: str) -> bytes:
    from openpyxl import Workbook  # imported here: only an export pays for loading it

    book = Workbook(write_only=True)
    ws = book.create_sheet(title=title[:31])
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
