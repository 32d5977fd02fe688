import pytest

from overlay.moderation import InvalidBlocklist, stream_filter_parse


def test_words_match_whole_and_ignore_case_and_accents():
    blocklist = stream_filter_parse("badword\nCafé")
    assert blocklist.first("what a BADWORD").entry == "badword"
    assert blocklist.first("badwords are fine") is None
    assert blocklist.first("meet me at the cafe").entry == "Café"


def test_patterns_are_regular_expressions_ignoring_case():
    blocklist = stream_filter_parse("/fr[e3]{2}\\s*v-?bucks/")
    assert blocklist.first("get FR33 V-Bucks here").entry == "/fr[e3]{2}\\s*v-?bucks/"
    assert blocklist.first("vbucks") is None


def test_a_bad_pattern_is_refused_with_its_line():
    with pytest.raises(InvalidBlocklist, match="Line 2 of the blocklist, /\\(unclosed/"):
        stream_filter_parse("fine\n/(unclosed/")


def test_a_pattern_that_matches_nothing_at_all_blocks_nothing():
    assert stream_filter_parse("/x*/").first("hello") is None


def test_masking_replaces_every_blocked_passage():
    blocklist = stream_filter_parse("spoiler\n/\\d{3}-\\d{4}/")
    assert blocklist.masked("No SPOILER: call 555-1234!") == "No •••: call •••!"
    assert blocklist.masked("clean") == "clean"
