from documents.chunking import Chunk, ChunkSpool, chunks_from, text_clean, text_split
from documents.extractors.base import Location, Piece


def test_long_text_is_cut_at_sentence_ends_within_the_limit():
    text = "One sentence here. " * 30
    parts = text_split(text, 100)
    assert all(len(part) <= 100 for part in parts)
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts) == text.strip()


def test_a_word_longer_than_the_limit_is_cut_anyway():
    assert text_split("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]


def test_pieces_join_only_within_one_page():
    pieces = [
        Piece("a", Location(page=1)),
        Piece("b", Location(page=1)),
        Piece("c", Location(page=2)),
    ]
    chunks = list(chunks_from(pieces, max_chars=100))
    assert [(c.text, c.location.label) for c in chunks] == [("a\nb", "page 1"), ("c", "page 2")]


def test_rows_join_into_a_range():
    pieces = [Piece(f"row {n}", Location(sheet="S", row_start=n)) for n in (2, 3, 5)]
    [chunk] = chunks_from(pieces, max_chars=100)
    assert chunk.location.label == 'sheet "S", rows 2-5'


def test_text_any_database_stores():
    assert text_clean(" a\x00b\ud800 ") == "ab?"


def test_the_spool_gives_back_what_it_was_given_in_batches():
    chunks = [Chunk(f"text {n}", Location(path=("a", n))) for n in range(5)]
    with ChunkSpool() as spool:
        for chunk in chunks:
            spool.add(chunk)
        batches = list(spool.batches(2))
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert [chunk for batch in batches for chunk in batch] == chunks


def test_the_spool_spills_to_its_file_past_its_memory_bound_and_keeps_the_order():
    chunks = [
        Chunk(f"text {n} " * 10, Location(path=("a", n), heading="H > I", page=n)) for n in range(9)
    ]
    with ChunkSpool(memory_chars=200) as spool:
        for chunk in chunks:
            spool.add(chunk)
        held = len(spool._held)
        batches = list(spool.batches(4))
    assert 0 < held < len(chunks)  # some in memory, the rest written out
    assert spool.count == 9
    assert [len(batch) for batch in batches] == [4, 4, 1]
    assert [chunk for batch in batches for chunk in batch] == chunks
