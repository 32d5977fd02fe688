"""Ingestion throughput: a 200-page PDF, a 50,000-row XLSX and a 2,000-paragraph DOCX,
against a bare read.

Writes both files in a temporary folder, ingests each into a fresh SQLite
database (store, extract, chunk, write the memories: the whole service), and
reads the same file with bare pypdf / openpyxl (read-only) / python-docx for comparison.
Prints pages/s or rows/s, the ratio of ingestion time to the bare read (CPU
time, best of `--repeat` runs: wall time is printed too, but on a shared
machine other processes inflate it), and the peak Python memory (tracemalloc,
in a separate run: tracing slows the code).
Embeddings are left out (`LUMA_EMBEDDING_SOURCE=none`): they are the memory's
own background task, run after ingestion by the worker.
The XLSX is also ingested at a fifth of its size: a flat memory bound shows
as a peak that does not grow with the row count.

    .venv/bin/python bench/bench_ingestion.py [--pages 200] [--rows 50000] [--paragraphs 2000]
"""

import argparse
import datetime
import logging
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from benchenv import django_setup

# Embeddings are the memory's own background task, not ingestion: measured elsewhere.
os.environ.setdefault("LUMA_EMBEDDING_SOURCE", "none")
WORK = django_setup("ingestion")

import docx  # noqa: E402
from django.core.files import File  # noqa: E402
from django.core.management import call_command  # noqa: E402
from fpdf import FPDF  # noqa: E402
from openpyxl import Workbook, load_workbook  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from documents.models import Document  # noqa: E402
from documents.services import document_create, document_delete, document_ingest  # noqa: E402

GAMES = ["Hades", "Celeste", "Tetris 99", "Elden Ring", "Stardew Valley", "Outer Wilds"]
PARAGRAPH = (
    "Luma's lore, chapter {page}: the star spirit crossed the {n}th ring of the Andromeda "
    "lighthouse, where Captain Nebula guards the archive of forgotten songs. Viewers who "
    "remember the chant may ask for the encore at the end of the stream. "
)


def pdf_write(path: Path, pages: int) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 6, "".join(PARAGRAPH.format(page=page, n=n) for n in range(6)))
    pdf.output(str(path))


def xlsx_write(path: Path, rows: int) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Streams")
    sheet.append(["Date", "Game", "Title", "Viewers", "Hours", "Notes"])
    start = datetime.date(2020, 1, 1)
    for i in range(rows):
        sheet.append(
            [
                start + datetime.timedelta(days=i % 3000),
                GAMES[i % len(GAMES)],
                f"Stream {i}: {GAMES[i % len(GAMES)]} marathon",
                100 + i % 900,
                1.5 + i % 5,
                "sponsor segment" if i % 7 == 0 else None,
            ]
        )
    workbook.save(str(path))


def docx_write(path: Path, paragraphs: int) -> None:
    """Chapters with a heading, paragraphs and a schedule table every 50 paragraphs."""
    document = docx.Document()
    for n in range(paragraphs):
        if n % 50 == 0:
            document.add_heading(f"Chapter {n // 50 + 1}", 1)
            table = document.add_table(rows=6, cols=3)
            for r, row in enumerate(
                [["Day", "Game", "Hours"]] + [[f"Day {i}", GAMES[i], "3"] for i in range(5)]
            ):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        document.add_paragraph(PARAGRAPH.format(page=n // 50 + 1, n=n))
    document.save(str(path))


def bare_docx(path: Path) -> int:
    """python-docx's own read: every paragraph's and every table cell's text."""
    document = docx.Document(str(path))
    count = sum(1 for paragraph in document.paragraphs if paragraph.text)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                _ = cell.text
    return count


def bare_pdf(path: Path) -> int:
    reader = PdfReader(str(path))
    for page in reader.pages:
        page.extract_text()
    return len(reader.pages)


def bare_xlsx(path: Path) -> int:
    workbook = load_workbook(str(path), read_only=True, data_only=True)
    count = 0
    for sheet in workbook.worksheets:
        for _row in sheet.iter_rows(values_only=True):
            count += 1
    workbook.close()
    return count


def ingest(path: Path) -> Document:
    """The whole service, as an upload gets it: store, then extract, chunk, remember."""
    with path.open("rb") as handle:
        document, _ = document_create(
            file=File(handle, name=path.name), name=path.name, enqueue=False
        )
    document = document_ingest(document_id=document.pk)
    assert document.status == "done", document.error
    return document


def timed(function: Callable[[], object]) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds: on a shared machine other processes inflate the first."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def peak_megabytes(function: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def clean() -> None:
    for document in Document.objects.all():
        document_delete(document=document)


def measure(
    label: str, path: Path, units: str, count: int, bare: Callable[[Path], int], repeat: int
) -> None:
    """Best of `repeat` runs, bare read and ingestion in turn (other work on the machine
    only ever adds time), then one traced run of each for the memory peak."""
    bare_runs, ingest_runs = [], []
    for _ in range(repeat):
        bare_runs.append(timed(lambda: bare(path))[:2])
        wall, cpu, document = timed(lambda: ingest(path))
        ingest_runs.append((wall, cpu))
        chunk_count = document.chunk_count
        clean()
    bare_wall, bare_cpu = (min(run[i] for run in bare_runs) for i in (0, 1))
    ingest_wall, ingest_cpu = (min(run[i] for run in ingest_runs) for i in (0, 1))
    bare_peak = peak_megabytes(lambda: bare(path))
    ingest_peak = peak_megabytes(lambda: ingest(path))
    clean()
    size = path.stat().st_size / 1024 / 1024
    print(
        f"{label} ({size:.1f} MB, {count:,} {units}, {chunk_count:,} chunks)\n"
        f"  bare read:  {bare_wall:6.2f} s wall, {bare_cpu:6.2f} s CPU"
        f"  {count / bare_cpu:7,.0f} {units}/s (CPU)  peak {bare_peak:5.1f} MB\n"
        f"  ingestion:  {ingest_wall:6.2f} s wall, {ingest_cpu:6.2f} s CPU"
        f"  {count / ingest_cpu:7,.0f} {units}/s (CPU)  peak {ingest_peak:5.1f} MB\n"
        f"  ratio ingestion / bare read: {ingest_cpu / bare_cpu:.2f}x CPU, "
        f"{ingest_wall / bare_wall:.2f}x wall",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--paragraphs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs; the best counts.")
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    pdf_path, xlsx_path, small_path = WORK / "lore.pdf", WORK / "streams.xlsx", WORK / "small.xlsx"
    pdf_write(pdf_path, options.pages)
    xlsx_write(xlsx_path, options.rows)
    xlsx_write(small_path, options.rows // 5)
    docx_path = WORK / "notes.docx"
    docx_write(docx_path, options.paragraphs)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, files in {WORK}\n", flush=True)
    logging.getLogger("documents").setLevel(logging.WARNING)
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    measure("PDF", pdf_path, "pages", options.pages, bare_pdf, options.repeat)
    measure("XLSX", xlsx_path, "rows", options.rows, bare_xlsx, options.repeat)
    measure("XLSX, a fifth", small_path, "rows", options.rows // 5, bare_xlsx, options.repeat)
    measure("DOCX", docx_path, "paragraphs", options.paragraphs, bare_docx, options.repeat)


if __name__ == "__main__":
    main()
