import pytest

from twitchbot.formatting import grapheme_boundary, markdown_to_plain, twitch_messages
from twitchbot.protocol import InvalidTwitchUrl, escape_tag_value, server_address


def test_markdown_noise_is_dropped_and_the_words_kept():
    reply = "# Title\n\n**Bold** and _soft_ `code`\n\n- one\n- two\n\n[docs](https://ex.am/ple)"
    assert (
        markdown_to_plain(reply) == "Title Bold and soft code • one • two docs (https://ex.am/ple)"
    )


def test_a_reply_is_one_line():
    assert twitch_messages("line one\nline two\r\n\tthree") == ["line one line two three"]


@pytest.mark.parametrize("reply", ["/ban everyone", ".timeout you 600", "/me dances"])
def test_a_reply_that_twitch_would_run_as_a_command_is_escaped(reply):
    (message,) = twitch_messages(reply)
    assert not message.startswith(("/", "."))
    assert message.lstrip("\u200b") == reply


def test_every_part_of_a_long_reply_is_escaped_not_only_the_first():
    reply = "a " * 249 + "/ban x " + "b " * 10
    assert all(not m.startswith(("/", ".")) for m in twitch_messages(reply))


def test_a_long_reply_is_cut_between_words_within_500_characters():
    words = [f"w{n:03d}" for n in range(300)]
    messages = twitch_messages(" ".join(words))
    assert all(len(m) <= 500 for m in messages)
    assert " ".join(messages).split() == words


@pytest.mark.parametrize(
    "grapheme",
    ["👍🏽", "🇯🇵", "👩‍👩‍👧", "e\u0301", "\u1100\u1161\u11a8", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"],
    ids=["skin tone", "flag", "zwj family", "combining accent", "hangul jamo", "tag flag"],
)
def test_text_without_spaces_is_never_cut_inside_a_grapheme(grapheme):
    messages = twitch_messages(grapheme * 400)
    assert all(len(m) <= 500 for m in messages)
    assert all(len(m.replace(grapheme, "")) == 0 for m in messages)
    assert "".join(messages) == grapheme * 400


def test_grapheme_boundaries():
    assert grapheme_boundary("ab", 1)
    assert not grapheme_boundary("e\u0301", 1)
    assert not grapheme_boundary("🇯🇵", 1)
    assert grapheme_boundary("🇯🇵🇫🇷", 2)


def test_chinese_is_cut_at_500_characters():
    assert [len(m) for m in twitch_messages("字" * 1200)] == [500, 500, 200]


def test_server_addresses():
    assert str(server_address("ircs://irc.chat.twitch.tv")) == "ircs://irc.chat.twitch.tv:6697"
    assert server_address("irc://127.0.0.1:6000").tls is False
    for bad in ("https://twitch.tv", "irc.chat.twitch.tv:6697", "ircs://", "irc://h:port"):
        with pytest.raises(InvalidTwitchUrl):
            server_address(bad)


def test_tag_values_are_escaped():
    assert escape_tag_value("a b;c\\d") == "a\\sb\\:c\\\\d"
