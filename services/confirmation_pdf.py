"""The order confirmation as a PDF (fpdf2): the same content as the XLSX, laid out to print.

The PDF's standard fonts carry Latin-1 only: amounts are written with the currency's code
(1,234.50 EUR), and a character outside Latin-1 in a product's name prints as "?"."""

from __future__ import annotations

from decimal import Decimal

from fpdf import FPDF
from fpdf.fonts import FontFace

from services.confirmations import Confirmation

HEADINGS = ("Product", "Name", "Cartons", "Price / carton", "Value")
WIDTHS = (28, 72, 22, 32, 36)
GREY = (235, 235, 235)


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _amount(value: Decimal | None, currency: str | None) -> str:
    if value is None:
        return "no price"
    return f"{value:,.2f}" + (f" {currency}" if currency else "")


def as_pdf(c: Confirmation) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"Order confirmation {c.erp_code} v{c.version}")
    pdf.set_creator("Restock")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Order confirmation", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in (
        ("Customer", f"{c.customer} ({c.erp_code})"),
        ("Recommendation", f"v{c.version}"),
        ("Ordered on", c.ordered_on.isoformat()),
    ):
        pdf.cell(0, 6, _latin1(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    for order in c.orders:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 11)
        eta = f", expected {order.eta.isoformat()}" if order.eta else ""
        heading = (
            f"Container {order.container}: ERP order "
            f"{order.erp_order_number or '(not yet numbered)'} ({order.status}){eta}"
        )
        pdf.cell(0, 7, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=9)
        with pdf.table(
            col_widths=WIDTHS,
            text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
            headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
        ) as table:
            table.row(HEADINGS)
            for line in order.lines:
                table.row(
                    (
                        _latin1(line.product_code),
                        _latin1(line.name or ""),
                        f"{line.quantity:,}",
                        _amount(line.unit_price, c.currency),
                        _amount(line.value, c.currency),
                    )
                )
            table.row(
                (
                    "",
                    f"Container {order.container}",
                    f"{order.cartons:,}",
                    "",
                    _amount(order.value, c.currency),
                ),
                style=FontFace(emphasis="BOLD"),
            )
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    total = f"Total placed: {c.cartons:,} cartons"
    if c.value is not None:
        total += f", {_amount(c.value, c.currency)}"
    pdf.cell(0, 7, total, new_x="LMARGIN", new_y="NEXT")
    refused = [o for o in c.orders if o not in c.placed]
    pdf.set_font("Helvetica", size=9)
    for order in refused:
        pdf.cell(
            0,
            6,
            f"Container {order.container}: not placed ({order.status})",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())
