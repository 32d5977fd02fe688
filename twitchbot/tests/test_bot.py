"""The Twitch bot against a local server speaking Twitch's IRC dialect."""

import time

import pytest

from chat.models import Channel, Conversation, Message, Role
from luma.services import runtime_settings_get
from memories.models import Memory
from overlay.models import BlockedMessage
from twitchbot.tests.conftest import CHANNEL

pytestmark = pytest.mark.django_db(transaction=True)


def joined(twitch):
    return any(line.startswith(f"JOIN #{CHANNEL}") for line in twitch.lines)


def test_it_logs_in_with_the_token_asks_for_tags_and_joins(twitch, start_bot, stream_rules):
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    assert twitch.lines[:3] == [
        "CAP REQ :twitch.tv/tags twitch.tv/commands",
        "PASS oauth:good-token",
        "NICK lumabot",
    ]


def test_a_mention_gets_a_reply_in_the_viewers_thread(
    twitch, start_bot, stream_rules, openai_server
):
    openai_server.behaviour.reply = "Hi Alice, welcome to the stream!"
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    asked = twitch.say(CHANNEL, "@lumabot hello there", login="alice", display_name="Alice")
    twitch.wait_for(lambda: twitch.messages_in(CHANNEL))
    reply = twitch.messages_in(CHANNEL)[0]
    assert reply.text == "Hi Alice, welcome to the stream!"
    assert reply.parent_id == asked
    conversation = Conversation.objects.get(twitch_channel=CHANNEL)
    assert conversation.channel == Channel.TWITCH
    question = conversation.messages.get(role=Role.USER)
    assert (question.content, question.author_name) == ("hello there", "Alice")
    assert question.author_discord_id == "twitch:1001"


def test_the_command_asks_too_and_other_chat_is_left_alone(
    twitch, start_bot, stream_rules, openai_server
):
    openai_server.behaviour.reply = "Forty-two."
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    twitch.say(CHANNEL, "just chatting with friends", login="carol", user_id="3")
    twitch.say(CHANNEL, "!askew is not the command", login="carol", user_id="3")
    asked = twitch.say(CHANNEL, "!ask what is the answer?", login="dave", user_id="4")
    twitch.wait_for(lambda: twitch.messages_in(CHANNEL))
    time.sleep(0.3)
    assert [(m.text, m.parent_id) for m in twitch.messages_in(CHANNEL)] == [("Forty-two.", asked)]
    assert list(Message.objects.filter(role=Role.USER).values_list("content", flat=True)) == [
        "what is the answer?"
    ]


def test_it_never_answers_itself_or_other_bots(twitch, start_bot, stream_rules, openai_server):
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    twitch.say(CHANNEL, "!ask are you there?", login="nightbot", user_id="19264788")
    twitch.say(CHANNEL, "!ask talking to myself", login="lumabot", user_id=twitch.bot_user_id)
    twitch.say(CHANNEL, "!ask a real question", login="erin", user_id="5")
    twitch.wait_for(lambda: twitch.messages_in(CHANNEL))
    time.sleep(0.3)
    assert len(twitch.messages_in(CHANNEL)) == 1
    assert Message.objects.filter(role=Role.USER).count() == 1


def test_a_viewer_waits_the_cooldown_but_a_moderator_does_not(
    twitch, start_bot, stream_rules, openai_server
):
    stream_rules.twitch_viewer_cooldown = 60
    stream_rules.save()
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    first = twitch.say(CHANNEL, "!ask one", login="alice", user_id="1")
    twitch.say(CHANNEL, "!ask two", login="alice", user_id="1")
    mod_1 = twitch.say(CHANNEL, "!ask mod one", login="mo", user_id="7", badges="moderator/1")
    mod_2 = twitch.say(CHANNEL, "!ask mod two", login="mo", user_id="7", badges="moderator/1")
    twitch.wait_for(lambda: len(twitch.messages_in(CHANNEL)) >= 3)
    time.sleep(0.5)
    assert [m.parent_id for m in twitch.messages_in(CHANNEL)] == [first, mod_1, mod_2]


def test_the_channel_rate_holds_questions_back_until_they_are_stale(
    twitch, start_bot, stream_rules, openai_server
):
    stream_rules.twitch_channel_rate = 1
    stream_rules.twitch_stale_seconds = 5
    stream_rules.save()
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    first = twitch.say(CHANNEL, "!ask first", login="a", user_id="1")
    twitch.say(CHANNEL, "!ask second", login="b", user_id="2")
    twitch.wait_for(lambda: twitch.messages_in(CHANNEL))
    time.sleep(6)  # the second waits for a slot (one a minute) and goes stale
    assert [m.parent_id for m in twitch.messages_in(CHANNEL)] == [first]


def test_questions_older_than_the_limit_are_skipped_and_the_rest_answered_in_order(
    twitch, start_bot, stream_rules, openai_server
):
    stream_rules.twitch_stale_seconds = 30
    stream_rules.save()
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    twitch.say(CHANNEL, "!ask from long ago", login="a", user_id="1", sent_at=time.time() - 120)
    second = twitch.say(CHANNEL, "!ask fresh one", login="b", user_id="2")
    third = twitch.say(CHANNEL, "!ask fresh two", login="c", user_id="3")
    twitch.wait_for(lambda: len(twitch.messages_in(CHANNEL)) >= 2)
    time.sleep(0.3)
    assert [m.parent_id for m in twitch.messages_in(CHANNEL)] == [second, third]
    assert list(
        Message.objects.filter(role=Role.USER).order_by("pk").values_list("content", flat=True)
    ) == ["fresh one", "fresh two"]


def test_the_filter_stops_a_viewers_message_before_the_model_sees_it(
    twitch, start_bot, stream_rules, openai_server
):
    stream_rules.stream_blocklist = "badword\n/fr[e3]{2}\\s*v-?bucks/"
    stream_rules.save()
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    twitch.say(CHANNEL, "!ask say BADWORD please", login="troll", user_id="66")
    twitch.say(CHANNEL, "!ask where are fr33 vbucks", login="troll2", user_id="67")
    fine = twitch.say(CHANNEL, "!ask a clean question", login="fan", user_id="68")
    twitch.wait_for(lambda: twitch.messages_in(CHANNEL))
    time.sleep(0.3)
    assert [m.parent_id for m in twitch.messages_in(CHANNEL)] == [fine]
    assert len(openai_server.requests) == 1
    blocked = list(BlockedMessage.objects.order_by("pk"))
    assert [(b.direction, b.author_name, b.entry) for b in blocked] == [
        ("viewer", "troll", "badword"),
        ("viewer", "troll2", "/fr[e3]{2}\\s*v-?bucks/"),
    ]


def test_the_filter_stops_a_reply_before_it_is_posted(
    twitch, start_bot, stream_rules, openai_server
):
    stream_rules.stream_blocklist = "spoiler"
    stream_rules.save()
    openai_server.behaviour.reply = "The big Spoiler is that the butler did it."
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    twitch.say(CHANNEL, "!ask how does it end?", login="fan", user_id="68")
    twitch.wait_for(lambda: BlockedMessage.objects.exists())
    time.sleep(0.3)
    assert twitch.messages_in(CHANNEL) == []
    assert BlockedMessage.objects.get().direction == "reply"


def test_a_reply_that_starts_with_a_slash_or_dot_is_escaped(
    twitch, start_bot, stream_rules, openai_server
):
    openai_server.behaviour.reply = "/ban everyone"
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    twitch.say(CHANNEL, "!ask type /ban everyone", login="troll", user_id="66")
    twitch.wait_for(lambda: twitch.messages_in(CHANNEL))
    sent = twitch.messages_in(CHANNEL)[0].text
    assert not sent.startswith(("/", "."))
    assert sent == "\u200b/ban everyone"


def test_a_long_reply_is_split_into_messages_of_at_most_500_characters(
    twitch, start_bot, stream_rules, openai_server
):
    words = " ".join(f"word{n}" for n in range(250))  # about 1,640 characters
    openai_server.behaviour.reply = f"**Sure!** {words} 👍🏽"
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    asked = twitch.say(CHANNEL, "!ask count for me", login="fan", user_id="68")
    twitch.wait_for(lambda: len(twitch.messages_in(CHANNEL)) >= 4)
    sent = twitch.messages_in(CHANNEL)
    assert all(len(m.text) <= 500 for m in sent)
    assert all(m.parent_id == asked for m in sent)
    assert " ".join(m.text for m in sent) == f"Sure! {words} 👍🏽"  # cut between words only


def test_it_reconnects_after_the_server_drops_the_connection(
    twitch, start_bot, stream_rules, openai_server
):
    openai_server.behaviour.reply = "Back again."
    start_bot()
    twitch.wait_for(lambda: twitch.logins == 1 and joined(twitch))
    twitch.drop()
    twitch.wait_for(lambda: twitch.logins == 2)
    twitch.wait_for(lambda: len([line for line in twitch.lines if line.startswith("JOIN")]) == 2)
    asked = twitch.say(CHANNEL, "!ask still there?", login="fan", user_id="68")
    twitch.wait_for(lambda: twitch.messages_in(CHANNEL))
    assert twitch.messages_in(CHANNEL)[0].parent_id == asked


def test_it_reconnects_when_twitch_asks_it_to(twitch, start_bot, stream_rules):
    start_bot()
    twitch.wait_for(lambda: twitch.logins == 1 and joined(twitch))
    twitch.send_raw(":tmi.twitch.tv RECONNECT")
    twitch.wait_for(lambda: twitch.logins == 2)


def test_a_refused_token_ends_the_bot_with_one_clear_error(twitch, start_bot, stream_rules):
    running = start_bot(token="oauth:wrong-token")
    running.thread.join(10)
    assert not running.thread.is_alive()
    assert type(running.error).__name__ == "TwitchLoginFailed"
    assert "Login authentication failed" in str(running.error)
    time.sleep(0.5)
    assert twitch.lines.count("PASS oauth:wrong-token") == 1  # no reconnect loop


def test_it_pongs_twitchs_ping(twitch, start_bot, stream_rules):
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    twitch.send_raw("PING :tmi.twitch.tv")
    twitch.wait_for(lambda: "PONG tmi.twitch.tv" in twitch.lines)


def test_a_rate_limit_notice_pauses_and_sends_the_message_again(
    twitch, start_bot, stream_rules, openai_server
):
    openai_server.behaviour.reply = "Patience is a virtue."
    refused = []

    def refuse_first(sent):
        if refused:
            return []
        refused.append(sent)
        return [
            f"@msg-id=msg_ratelimit :tmi.twitch.tv NOTICE #{CHANNEL} :Your message was not "
            "sent because you are sending messages too quickly."
        ]

    twitch.on_privmsg = refuse_first
    start_bot(rate_limited_pause=0.3)
    twitch.wait_for(lambda: joined(twitch))
    twitch.say(CHANNEL, "!ask hurry", login="fan", user_id="68")
    twitch.wait_for(lambda: len(twitch.messages_in(CHANNEL)) == 2)
    first, again = twitch.messages_in(CHANNEL)
    assert first.text == again.text == "Patience is a virtue."


def test_a_duplicate_notice_sends_the_message_again_made_different(
    twitch, start_bot, stream_rules, openai_server
):
    openai_server.behaviour.reply = "Same answer."
    refused = []

    def refuse_first(sent):
        if refused:
            return []
        refused.append(sent)
        return [
            f"@msg-id=msg_duplicate :tmi.twitch.tv NOTICE #{CHANNEL} :Your message is "
            "identical to the one you sent less than 30 seconds ago."
        ]

    twitch.on_privmsg = refuse_first
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    twitch.say(CHANNEL, "!ask again", login="fan", user_id="68")
    twitch.wait_for(lambda: len(twitch.messages_in(CHANNEL)) == 2)
    first, again = twitch.messages_in(CHANNEL)
    assert again.text != first.text and again.text.startswith(first.text)


def test_each_viewer_speaks_with_their_own_memories(twitch, start_bot, stream_rules, openai_server):
    Memory.objects.create(
        content="Alice's cat is called Miso.", status="approved", subject_discord_id="twitch:1"
    )
    Memory.objects.create(
        content="Bob's cat is called Pixel.", status="approved", subject_discord_id="twitch:2"
    )
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    twitch.say(CHANNEL, "!ask what is my cat called?", login="alice", user_id="1")
    twitch.wait_for(lambda: twitch.messages_in(CHANNEL))
    system = openai_server.requests[-1]["json"]["messages"][0]["content"]
    assert "Miso" in system and "Pixel" not in system


def test_the_settings_refresh_while_the_bot_runs(twitch, start_bot, stream_rules, openai_server):
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    row = runtime_settings_get()
    row.twitch_command_prefix = "!luma"
    row.save()
    time.sleep(0.6)
    asked = twitch.say(CHANNEL, "!luma hi", login="fan", user_id="68")
    twitch.wait_for(lambda: twitch.messages_in(CHANNEL))
    assert twitch.messages_in(CHANNEL)[0].parent_id == asked


def test_a_server_that_keeps_closing_before_the_welcome_ends_the_bot(
    twitch, start_bot, stream_rules
):
    twitch.token = "another-token"  # refused, and the NOTICE is lost with the connection
    twitch.send_notice = False
    running = start_bot()
    running.thread.join(15)
    assert type(running.error).__name__ == "TwitchLoginFailed"
    assert "5 times in a row" in str(running.error)


# ---- field cases: what other Twitch bots met (see the report of issue 17) -------------


@pytest.mark.parametrize(
    "notice",
    [
        "Login authentication failed",
        "Login unsuccessful",  # gempir/go-twitch-irc#197: a reconnect loop
        "Login authentification failed",  # TwitchLib#1090
        "Improperly formatted auth",
        "Error logging in",  # tmi.js#33
    ],
)
def test_every_way_twitch_refuses_a_login_ends_the_bot_without_a_reconnect_loop(
    twitch, start_bot, stream_rules, notice
):
    twitch.send_notice = False
    twitch.token = "other"
    original = twitch._handle

    def refuse(writer, text, password):
        if text.startswith("NICK"):
            twitch._write(writer, f":tmi.twitch.tv NOTICE * :{notice}")
            return None
        return original(writer, text, password)

    twitch._handle = refuse
    running = start_bot()
    running.thread.join(10)
    assert type(running.error).__name__ == "TwitchLoginFailed"
    assert notice in str(running.error)
    assert twitch.lines.count("PASS oauth:good-token") == 1


def test_a_line_that_is_not_utf8_does_not_crash_the_bot(
    twitch, start_bot, stream_rules, openai_server
):
    start_bot()  # jaraco/irc#100: the reactor died on one bad byte
    twitch.wait_for(lambda: joined(twitch))
    twitch.send_bytes(
        b"@id=x;user-id=9;tmi-sent-ts=1 :bad!bad@bad.tmi.twitch.tv PRIVMSG #streamer "
        b":!ask caf\xe9 \xff\xfe\r\n"
    )
    asked = twitch.say(CHANNEL, "!ask still answering?", login="fan", user_id="68")
    twitch.wait_for(lambda: any(m.parent_id == asked for m in twitch.messages_in(CHANNEL)))


def test_a_long_reply_in_chinese_is_sent_in_full(twitch, start_bot, stream_rules, openai_server):
    openai_server.behaviour.reply = "字" * 600  # 1,800 bytes: over IRC's 512 for one message
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    twitch.say(CHANNEL, "!ask 写一段", login="fan", user_id="68")
    twitch.wait_for(lambda: len(twitch.messages_in(CHANNEL)) == 2)
    assert [len(m.text) for m in twitch.messages_in(CHANNEL)] == [500, 100]


def test_a_connection_gone_silent_is_pinged_then_replaced(twitch, start_bot, stream_rules):
    start_bot(keepalive=1.0)  # PhantomBot#2675: no PONG, no reconnect
    twitch.wait_for(lambda: twitch.logins == 1 and joined(twitch))
    twitch.freeze()
    twitch.wait_for(lambda: "PING :tmi.twitch.tv" in twitch.lines, 5)
    twitch.wait_for(lambda: twitch.logins == 2, 10)


def test_a_me_action_with_the_command_is_answered(twitch, start_bot, stream_rules, openai_server):
    start_bot()
    twitch.wait_for(lambda: joined(twitch))
    asked = twitch.say(CHANNEL, "\x01ACTION !ask do you dance?\x01", login="fan", user_id="68")
    twitch.wait_for(lambda: twitch.messages_in(CHANNEL))
    assert twitch.messages_in(CHANNEL)[0].parent_id == asked
    assert Message.objects.filter(role=Role.USER).get().content == "do you dance?"
