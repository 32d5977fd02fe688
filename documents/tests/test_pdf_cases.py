"""PDFs as people fill and type them: forms, and ligatures (../shared/cases)."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from documents.extractors import extract
from documents.models import DocumentChunk
from documents.tests import files
from memories.models import Memory
from memories.selectors import MemoryFilters, memory_search

CASES = Path(__file__).parent / "cases"
RADIO = 1 << 15


def _name(value: str) -> NameObject:
    return NameObject(value)


def _widget(writer: PdfWriter, page, field: DictionaryObject | None, **entries) -> object:
    widget = DictionaryObject(
        {
            _name("/Type"): _name("/Annot"),
            _name("/Subtype"): _name("/Widget"),
            _name("/Rect"): ArrayObject([NumberObject(n) for n in (50, 50, 150, 70)]),
            **{_name(k): v for k, v in entries.items()},
        }
    )
    if field is not None:
        widget[_name("/Parent")] = field.indirect_reference
    reference = writer._add_object(widget)
    page.setdefault(_name("/Annots"), ArrayObject()).append(reference)
    return reference


def form_pdf(*, filled: bool, text: str = "Stream signup form") -> bytes:
    """One page with a text field, a check box, a radio group and a choice list."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(files.pdf_bytes([text]))))
    page = writer.pages[0]
    fields = ArrayObject()

    def simple(name: str, kind: str, value, **extra) -> None:
        entries = {"/T": TextStringObject(name), "/FT": _name(kind), **extra}
        if filled and value is not None:
            entries["/V"] = value
        fields.append(_widget(writer, page, None, **entries))

    simple("viewer_name", "/Tx", TextStringObject("Kai Moreno"))
    simple("wants_shoutout", "/Btn", _name("/Yes"))
    simple("never_ticked", "/Btn", _name("/Off"))
    simple("merch_size", "/Ch", TextStringObject("Large"), **{"/Opt": ArrayObject(
        [TextStringObject("Small"), TextStringObject("Large")])})  # fmt: skip
    group = DictionaryObject(
        {_name("/T"): TextStringObject("favourite_colour"), _name("/FT"): _name("/Btn"),
         _name("/Ff"): NumberObject(RADIO), _name("/Kids"): ArrayObject()}
    )  # fmt: skip
    if filled:
        group[_name("/V")] = _name("/Teal")
    writer._add_object(group)
    for option in ("Teal", "Coral"):
        group["/Kids"].append(_widget(writer, page, group, **{"/AS": _name(f"/{option}")}))
    fields.append(group.indirect_reference)
    writer._root_object[_name("/AcroForm")] = DictionaryObject(
        {_name("/Fields"): fields, _name("/NeedAppearances"): BooleanObject(True)}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def texts(data: bytes) -> list[str]:
    return [piece.text for piece in extract("pdf", io.BytesIO(data))]


def test_every_kind_of_filled_field_joins_its_page_with_its_name():
    [page] = texts(form_pdf(filled=True))
    assert page.startswith("Stream signup form")
    lines = page.split("\n\n", 1)[1].splitlines()
    assert lines == [
        "viewer_name: Kai Moreno",
        "wants_shoutout: yes",
        "merch_size: Large",
        "favourite_colour: Teal",
    ]


def test_a_form_with_no_values_adds_nothing():
    assert texts(form_pdf(filled=False)) == ["Stream signup form"]


def test_the_filled_case_file_teaches_its_values():
    [page] = texts((CASES / "pdf_acroform_filled.pdf").read_bytes())
    assert "guest_name: Mika Tanaka" in page and "favourite_game: Stardew Valley" in page


@pytest.mark.django_db
def test_ligatures_are_searchable_as_letters_and_the_chunk_stays_readable(upload, settings):
    settings.LUMA_EMBEDDING_SOURCE = "none"  # the words alone must find it
    document = upload("ligatures.pdf", (CASES / "pdf_ligatures.pdf").read_bytes())
    chunk = DocumentChunk.objects.get(document=document)
    assert "office file lists the floor plan" in chunk.memory.content
    assert "\ufb01" not in chunk.memory.content
    for word in ("office", "first", "floor", "Affinity"):
        _, found = memory_search(
            queryset=Memory.objects.all(), query=word, filters=MemoryFilters(), offset=0, limit=5
        )
        assert [item.memory.pk for item in found] == [chunk.memory_id], word


@pytest.mark.django_db
def test_fullwidth_letters_and_no_break_spaces_fold_too(upload):
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in "Friday")  # U+FF26 ...
    upload("notes.txt", f"{fullwidth}\u00a0karaoke at \uff19pm".encode())
    memory = Memory.objects.get()
    assert memory.content.endswith("Friday karaoke at 9pm")


@pytest.mark.django_db
def test_a_query_typed_with_a_ligature_or_fullwidth_letters_finds_the_plain_text(upload, settings):
    settings.LUMA_EMBEDDING_SOURCE = "none"
    document = upload("ligatures.pdf", (CASES / "pdf_ligatures.pdf").read_bytes())
    chunk = DocumentChunk.objects.get(document=document)
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in "office")
    for query in ("\ufb01rst", fullwidth):
        _, found = memory_search(
            queryset=Memory.objects.all(), query=query, filters=MemoryFilters(), offset=0, limit=5
        )
        assert [item.memory.pk for item in found] == [chunk.memory_id], query
