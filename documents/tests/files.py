"""Real files of every format, written by the tests (fpdf2 for PDFs, openpyxl for XLSX,
python-docx for Word)."""

import datetime
import io
import json
import re
import zipfile
from typing import Any

import docx
from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from openpyxl import Workbook
from PIL import Image

FIXED_DATE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def pdf_bytes(pages: list[str], *, user_password: str | None = None) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(FIXED_DATE)  # the same pages make the same bytes, second after second
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    if user_password is not None:
        pdf.set_encryption(
            owner_password="owner-secret",
            user_password=user_password,
            encryption_method=EncryptionMethod.RC4,
        )
    return bytes(pdf.output())


def scanned_pdf_bytes(pages: int = 2) -> bytes:
    """Pages that are only pictures, as a scanner makes them: no text layer."""
    pdf = FPDF()
    pdf.set_creation_date(FIXED_DATE)
    for _ in range(pages):
        pdf.add_page()
        pdf.image(Image.new("RGB", (120, 160), "white"), x=10, y=10, w=120)
    return bytes(pdf.output())


def xlsx_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_rewrite(data: bytes, member: str, new_content: bytes) -> bytes:
    """The same zip with one member's content replaced."""
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = new_content if info.filename == member else source.read(info.filename)
            target.writestr(info.filename, content)
    return output.getvalue()


def zip_bomb_xlsx_bytes(unpacked_megabytes: int = 40) -> bytes:
    """A valid-looking workbook whose sheet unpacks to megabytes of blanks (ratio ~1000)."""
    data = xlsx_bytes({"Sheet": [["a", "b"], [1, 2]]})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    padding = b" " * (unpacked_megabytes * 1024 * 1024)
    bomb = sheet.replace(b"<sheetData>", b"<sheetData>" + padding, 1)
    return zip_rewrite(data, "xl/worksheets/sheet1.xml", bomb)


def xlsx_with_dimension(data: bytes, ref: str) -> bytes:
    """The workbook with its first sheet declaring the size `ref`, true or not."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    forged = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), sheet)
    assert forged != sheet or ref.encode() in sheet
    return zip_rewrite(data, "xl/worksheets/sheet1.xml", forged)


def huge_dimension_xlsx_bytes() -> bytes:
    """A small workbook whose sheet claims to span every row and column Excel has."""
    return xlsx_with_dimension(xlsx_bytes({"Sheet": [["a", "b"], [1, 2]]}), "A1:XFD1048576")


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    return text.encode(encoding)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, indent=2).encode()


def docx_bytes(*blocks: tuple) -> bytes:
    """A Word document written by python-docx: ("h", level, text), ("p", text) or
    ("table", rows)."""
    document = docx.Document()
    for block in blocks:
        if block[0] == "h":
            document.add_heading(block[2], block[1])
        elif block[0] == "p":
            document.add_paragraph(block[1])
        else:
            rows = block[1]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
