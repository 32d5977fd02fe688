"""Random bytes into every extractor: only `DocumentRejected` may come out."""

import contextlib
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents.chunking import chunks_from
from documents.errors import DocumentRejected
from documents.extractors import EXTRACTORS, detect_kind, extract
from documents.tests import files

SEEDS = {
    "pdf": files.pdf_bytes(["Luma streams on Fridays.", "Second page."]),
    "xlsx": files.xlsx_bytes({"S": [["Day", "Game"], ["Friday", "Hades"]]}),
    "csv": b"Day,Game\r\nFriday,Hades\r\n",
    "json": b'{"a": [1, {"b": "c"}]}',
    "txt": b"Luma's lore.\n\nThe moon.\n",
    "docx": files.docx_bytes(("h", 1, "Lore"), ("p", "The moon."), ("table", [["A"], ["b"]])),
    "md": b"# Lore\n\nThe *moon*.\n\n| A |\n|---|\n| b |\n",
    "html": b"<!doctype html><h1>Lore</h1><p>The <b>moon</b>.</p><table><tr><th>A</th></tr>"
    b"<tr><td>b</td></tr></table>",
}


def _run(kind: str, data: bytes) -> None:
    with contextlib.suppress(DocumentRejected):
        list(chunks_from(extract(kind, io.BytesIO(data)), max_chars=200))


def _mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """A real file of the format, cut, overwritten in places or extended with junk."""
    return st.tuples(
        st.integers(0, len(seed)), st.binary(max_size=64), st.integers(0, len(seed))
    ).map(lambda t: seed[: t[0]] + t[1] + seed[t[0] + len(t[1]) :][: t[2]])


fuzz = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize("kind", sorted(EXTRACTORS))
@fuzz
@given(data=st.binary(max_size=2048))
def test_random_bytes_raise_only_the_documented_error(kind, data):
    _run(kind, data)


@pytest.mark.parametrize("kind", sorted(EXTRACTORS))
@fuzz
@given(data=st.data())
def test_damaged_real_files_raise_only_the_documented_error(kind, data):
    _run(kind, data.draw(_mutated(SEEDS[kind])))


@fuzz
@given(
    data=st.binary(max_size=2048),
    name=st.sampled_from(["a.pdf", "a.xlsx", "a.csv", "a", "a.json", "a.txt"]),
)
def test_type_detection_raises_only_the_documented_error(data, name):
    with contextlib.suppress(DocumentRejected):
        detect_kind(io.BytesIO(data), name)
