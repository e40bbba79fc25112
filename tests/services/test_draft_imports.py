"""Pasted `CODE quantity` lines, read the way a spreadsheet's two columns paste, and CSV
files read into such lines."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, PayloadTooLarge
from services.draft_imports import csv_as_lines, decoded_csv, parse_lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P-1\t2400", {"P-1": 2400}),  # a spreadsheet's columns
        ("P-1 2400\nP-2 0", {"P-1": 2400, "P-2": 0}),
        ("P-1,1,200", {"P-1": 1200}),  # CSV with a grouped thousand
        ("P-1;1 200\n\n  P-2 ;  36  ", {"P-1": 1200, "P-2": 36}),
        ("P-1 1'200'000", {"P-1": 1_200_000}),
        ("Code\tQuantity\nP-1\t24", {"P-1": 24}),  # a header line is skipped
        ("product,cartons\r\nP-1,24\r\n", {"P-1": 24}),
    ],
)
def test_lines_are_read(text: str, expected: dict[str, int]) -> None:
    assert parse_lines(text) == (expected, [])


def test_every_wrong_line_is_named_by_its_number() -> None:
    text = "P-1 24\nP-2\nP-3 twelve\nP-4 1.5\nP-1 48\nP-5 -3\nP-6 1,20\nP-7 12 boxes"
    quantities, problems = parse_lines(text)
    assert quantities == {"P-1": 24}
    assert problems == [
        ("line 2", "'P-2': give a product code and a quantity"),
        ("line 3", "'twelve' is not a whole number of cartons"),
        ("line 4", "'1.5' is not a whole number of cartons"),
        ("line 5", "P-1 is listed twice (line 1 and 5)"),
        ("line 6", "'-3' is not a whole number of cartons"),
        ("line 7", "'1,20' is not a whole number of cartons"),
        ("line 8", "'12 boxes' is not a whole number of cartons"),
    ]


def test_a_header_is_skipped_only_before_the_first_line_read() -> None:
    assert parse_lines("P-1 24\nCode Quantity") == (
        {"P-1": 24},
        [("line 2", "'Quantity' is not a whole number of cartons")],
    )
    assert parse_lines("\n\nCode\tQty\nP-1\t24") == ({"P-1": 24}, [])
    # A first line with a number in it is a line, never a header dropped unseen.
    assert parse_lines("P-1 2400 cartons\nP-2 12") == (
        {"P-2": 12},
        [("line 1", "'2400 cartons' is not a whole number of cartons")],
    )


def test_spreadsheet_oddities_and_absurd_numbers() -> None:
    assert parse_lines("\ufeffP-1\t1\u00a0200") == ({"P-1": 1200}, [])  # BOM, nbsp grouping
    assert parse_lines("P-1 ٣") == ({}, [("line 1", "'٣' is not a whole number of cartons")])
    huge = "P-1 100000001\nP-2 " + "9" * 5000
    assert parse_lines(huge) == (
        {},
        [
            ("line 1", "100,000,001 cartons is more than 100,000,000"),
            ("line 2", f"{'9' * 5000!r} is not a whole number of cartons"),
        ],
    )


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        ('code,quantity\r\nP-1,24\r\n"P-2","1,200"\r\n', {"P-1": 24, "P-2": 1200}),
        ("Artikel;Menge\nP-1;24\nP-2;1.200\n", None),  # a decimal point is not a carton count
        ("P-1;24\nP-2;36\n", {"P-1": 24, "P-2": 36}),
        ("P-1\t24\tignored third column\n", {"P-1": 24}),
    ],
)
def test_a_csv_files_first_two_columns_are_read_as_pasted_lines(
    csv_text: str, expected: dict[str, int] | None
) -> None:
    quantities, problems = parse_lines(csv_as_lines(csv_text))
    if expected is None:
        assert problems == [("line 3", "'1.200' is not a whole number of cartons")]
    else:
        assert (quantities, problems) == (expected, [])


def test_a_csv_file_is_read_as_excel_writes_it_or_refused_by_name() -> None:
    assert decoded_csv("\ufeffP-1,24".encode()) == "P-1,24"  # UTF-8 with a byte-order mark
    assert decoded_csv("Café,24".encode("cp1252")) == "Café,24"
    with pytest.raises(PayloadTooLarge) as large:
        decoded_csv(b"P-1,24\n" * 100_000)
    assert large.value.field == "file"


def test_a_csv_file_that_cannot_be_read_is_named_not_a_server_error() -> None:
    with pytest.raises(InvalidInput) as unbalanced:
        csv_as_lines('P-1,"24\n' + "x" * 140_000)
    assert unbalanced.value.field == "file"
    assert decoded_csv("P-1\t24\r\n".encode("utf-16")) == "P-1\t24\r\n"  # Excel's Unicode text
