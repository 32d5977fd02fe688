"""The privacy screen every AI suggestion passes (memories.privacy): what it finds, in
which formats, and the ordinary facts it must leave alone."""

import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from memories.models import SuggestionRun
from memories.privacy import (
    CATEGORY_LABELS,
    Blocklist,
    luhn_valid,
    privacy_categories,
    privacy_findings,
    privacy_redacted,
)
from memories.services import suggestion_run_record

FOUND = {
    "api_key": [
        "Kai's AWS access key is AKIAIOSFODNN7EXAMPLE.",
        "Kai's GitHub token is ghp_1234567890abcdefghijABCDEFGHIJ123456",
        "Kai's fine-grained token: github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "Kai uses the OpenAI key sk-proj-abc123def456ghi789jkl012mno345pqr678stu901vwx",
        "Kai's old OpenAI key is sk-abcdefghijklmnopqrstT3BlbkFJabcdefghijklmnopqrst",
        "Kai's DeepSeek key is sk-4f1b2c3d4e5f60718293a4b5c6d7e8f9",
        "Kai's Claude key is sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "The Discord bot token is MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123",
        "Kai's Slack bot token is xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx",
        "Kai's Stripe key is sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "Kai's Twitch stream key is live_123456789_abcdefghijklmnopqrstuvwxyz12",
        "Kai's Google API key: AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
        "Kai posts with https://discord.com/api/webhooks/123456789012345678/AbCdEf-GhIjKl_mnop",
        "Kai's session token is eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "Kai's API key is 3f9a8b7c6d5e4f3a2b1c",
        "Kai's recovery code is 7XQ2-PLM9-ZK41",
        "Kai signs in at https://kai:s3cretpass@nas.example.com/",
        "Kai pasted Bearer abcdef0123456789abcdef0123456789",
        "Kai's key: Zx8Qw2Er7Ty4Ui1Op6As3Df9Gh5Jk0",
    ],
    "password": [
        "my password is hunter2",
        "Kai's password is hunter2",
        "Kai's Steam password is 'Tr0ub4dor&3'",
        "The password for the Discord server is pineapple",
        "Kai's wifi password: correcthorsebatterystaple",
        "Kai's NAS login uses pass=Sa8gE6ci",
        "Kai's PIN is 4321",
        "Kai's passcode is 918273",
        "Kais Passwort ist Sommer2024",
        "Le mot de passe de Kai est soleil123",
        "La contraseña de Kai es gato1234",
        "凯的密码是abc12345",
        "カイのパスワードは hunter2 です",
        "카이의 비밀번호는 qwerty12 이다",
    ],
    "email": [
        "Kai's email is kai@example.com",
        "Kai's email is kai+stream@gmail.com",
        "Reach Kai at Kai.Streams+business@mail.example.co.uk.",
        "Kai's contact is kai [at] example [dot] com",
        "Kai wrote kai (at) proton (dot) me",
        "Kai's address is kai at gmail dot com",
        "凯的邮箱是 kai2024@qq.com",
    ],
    "phone": [
        "Call Kai at 555-123-4567",
        "Kai's number is (415) 555-2671",
        "Kai's number is +1 415 555 2671",
        "Kai's UK mobile is +44 7911 123456",
        "Kai's London number is +44 20 7946 0958",
        "Kai's UK mobile is 07911 123456",
        "Kai's German mobile is +49 151 23456789",
        "Kai's French number is +33 6 12 34 56 78",
        "Kai's French number is 06 12 34 56 78",
        "Kai's Japanese number is 090-1234-5678",
        "Kai's number in Japan is +81 90-1234-5678",
        "Kai's Chinese number is 13800138000",
        "Kai's Indian number is +91 98765 43210",
        "Kai's Brazilian number is +55 11 91234-5678",
    ],
    "address": [
        "Kai lives at 221B Baker Street, London",
        "Kai's address is 1600 Pennsylvania Avenue NW",
        "Kai lives at 42 Wallaby Way, Sydney",
        "Kai moved to 10 Oak Lane, Apt 4B",
        "Kai lives in Springfield, IL 62704",
        "Kai's postcode is SW1A 1AA",
        "Kai's postal code is K1A 0B1",
        "Send it to PO Box 1234",
        "Kai wohnt in der Hauptstraße 5, Berlin",
        "Kai lives at Berliner Straße 12",
        "Kai lives at Kerkstraat 12, Amsterdam",
        "Kai bor på Storgatan 3",
        "Kai mieszka przy ul. Długa 5",
        "Kai habite au 12 rue de Rivoli, Paris",
        "Kai vive en Calle Mayor 5, Madrid",
        "Kai vive en C/ Mayor 5",
        "Marco lives at Via Roma 10, Milan",
        "Kai mora na Rua Augusta, 20",
        "カイの住所は東京都千代田区千代田1-1です",
        "カイは〒100-0001に住んでいる",
        "凯住在北京市朝阳区建国路88号",
        "카이는 서울시 강남구 테헤란로 152에 산다",
    ],
    "payment_card": [
        "Kai's card is 4111 1111 1111 1111",
        "Kai paid with 5500-0000-0000-0004",
        "Kai's Amex is 3782 822463 10005",
        "Kai's card number is 4012888888881881",
        "Kai's Discover card is 6011 1111 1111 1117",
    ],
    "bank_account": [
        "Kai's IBAN is DE89 3704 0044 0532 0130 00",
        "Kai's IBAN is GB29NWBK60161331926819",
    ],
    "national_id": [
        "Kai's SSN is 123-45-6789",
        "Kai's National Insurance number is AB123456C",
        "Kai's NI number is JG 10 37 26 A",
    ],
}

ORDINARY = [
    "Kai streams at 8pm on Fridays.",
    "Kai has 2 cats.",
    "Kai beat Elden Ring in 40 hours.",
    "Kai's favourite number is 42.",
    "Kai was born in 1998.",
    "Kai's birthday is 2024-05-12.",
    "Kai's birthday is 12/05/2024.",
    "Kai's team won 1-0.",
    "Kai scored 3-2 in the final.",
    "Kai's record is 5-2-1.",
    "Kai reached 100000 followers.",
    "Kai's subscriber count is 1,234,567.",
    "Kai's stream runs 20:00-23:00.",
    "Kai's speedrun took 1:23:45.678.",
    "Kai's high score is 98765432.",
    "Kai donated $1,500 on 2023-11-05.",
    "Kai's Discord ID is 123456789012345678.",
    "Kai's rank is 1234567.",
    "Kai got a 10-game win streak.",
    "Kai's team is 2nd in the league with 45 points.",
    "Kai's phone is an iPhone 15.",
    "Kai has an RTX 4090 and a PS5 2TB.",
    "Kai forgot his password.",
    "Kai uses a password manager.",
    "Kai's password is too weak.",
    "Kai changed the wifi password yesterday.",
    "Kai collected 500 tokens in the event.",
    "The token of appreciation was a mug.",
    "Kai's secret is that she loves pineapple pizza.",
    "Kai's login is kai_streams.",
    "Kai's handle is @kai_streams.",
    "Kai streams at twitch dot tv.",
    "Kai streams via Twitch 3 times a week.",
    "Kai lives in Berlin.",
    "Kai lives on Main Street.",
    "Kai moved to Canada in 2020.",
    "Kai lives at home with 2 dogs.",
    "Kai watched 3 Sesame Street episodes.",
    "Kai bought 3 Main Street tickets.",
    "Kai got 1 place higher in the ranking.",
    "Kai belegte Platz 1.",
    "Kai played Stargate 2.",
    "Kai's favourite game is APEXLegends.",
    "Kai likes EldenRing2022GOTYEdition.",
    "Kai plays Bach's Cello Suite 1.",
    "Kai works on Unit 5 of the course.",
    "Kai's tyre went flat 2 times.",
    "Kai's channel is youtube.com/watch?v=dQw4w9WgXcQ.",
    "Kai wrote https://example.com/blog/2024/05/my-first-stream.",
    "Kai's game version is 1.2.3.4.",
    "Kai's ISBN is 978-3-16-148410-0.",
    "Kai is hooked on a game called FIFA 23.",
    "John called James at 12:37 am on 31 October, 2022.",
    "凯每周五晚上8点直播。",
    "Kai's favourite channel is 频道3号.",
    "カイは猫を2匹飼っている。",
    "카이는 고양이 2마리를 키운다.",
    "Kai mains Zelda in Smash since 2018.",
]


@pytest.mark.parametrize(
    ("category", "text"),
    [(category, text) for category, texts in FOUND.items() for text in texts],
)
def test_it_finds_each_kind_of_secret_and_personal_data(category, text):
    assert privacy_categories(text) == [category]


@pytest.mark.parametrize("text", ORDINARY)
def test_it_leaves_ordinary_facts_alone(text):
    assert privacy_findings(text) == []


def test_every_category_has_a_label_and_a_test():
    assert set(FOUND) | {"blocklist"} == set(CATEGORY_LABELS)


def test_a_redacted_text_keeps_the_fact_and_loses_the_secret():
    text = "Kai's number is +44 20 7946 0958 and her password is hunter2."

    redacted = privacy_redacted(text)

    assert redacted == (
        "Kai's number is [withheld: phone] and her password is [withheld: password]."
    )


def test_a_token_two_patterns_see_in_part_is_redacted_whole():
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
    assert privacy_redacted(f"The bot token is {token}") == "The bot token is [withheld: api_key]"


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True)],
)
def test_card_numbers_are_luhn_checked(number, valid):
    assert luhn_valid(number) is valid


def test_a_card_shaped_number_that_fails_the_luhn_check_is_not_a_card():
    assert privacy_findings("Kai's order number is 4111 1111 1111 1112") == []


def test_the_screen_is_offline_and_fast(monkeypatch):
    """detect-secrets is used as a library on a string: no plugin verifies a key online."""

    def no_network(*args, **kwargs):
        raise AssertionError("the privacy screen tried to connect")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    texts = [text for texts in FOUND.values() for text in texts] + ORDINARY
    started = time.perf_counter()
    for text in texts:
        privacy_findings(text, blocklist=Blocklist.from_text("Kai's real name\nMaplewood"))
    per_text_ms = (time.perf_counter() - started) * 1000 / len(texts)
    assert per_text_ms < 20


# The blocklist: the streamer's words.


@pytest.mark.parametrize(
    ("entry", "text", "found"),
    [
        ("Maplewood", "Kai grew up in maplewood", True),
        ("Maplewood", "Kai grew up in MAPLEWOOD.", True),
        ("Maplewood", "Kai likes Maplewoods", False),  # whole words for Latin
        ("Kai", "Kaiser rolls are great", False),
        ("Kai", "Kai's dog", True),
        ("Kai", "KAI是主播", True),  # a Latin word beside Chinese
        ("Zoë", "Zoe lives nearby", True),  # accents folded
        ("Zoe", "Zoë lives nearby", True),
        ("real name", "Kai's real  name is secret", True),  # spacing collapsed
        ("real name", "Kai's realname", True),
        ("\uff2b\uff41\uff49", "Kai streams", True),  # full-width forms
        ("Kai", "K\u200bai streams", True),  # a zero-width space inside
        ("东京", "凯住在东京都", True),  # Chinese: anywhere
        ("山田", "山田さんは学生です", True),  # Japanese: anywhere
        ("민수", "민수가 왔다", True),  # Korean glues particles on
        ("が", "かみ", False),  # kana keep their voicing marks
        ("Müller", "Kai met Mr. Muller", True),
        ("Kai's school", "Kai\u2019s school is near", True),  # a curly apostrophe
        ("Łódź", "Kai lives near Lodz", False),  # Ł is a letter of its own, not Ł+accent
    ],
)
def test_the_blocklist_matches_as_the_streamer_means_it(entry, text, found):
    categories = privacy_categories(text, blocklist=Blocklist.from_text(entry))
    assert ("blocklist" in categories) is found


def test_a_blocklist_reads_one_entry_a_line_and_ignores_blank_lines():
    blocklist = Blocklist.from_text("  Maplewood \n\n\r\nKai's school\nMaplewood\n")

    assert blocklist.entries == ("Maplewood", "Kai's school")
    assert Blocklist.from_text("\n \n").needles == ()
    assert privacy_findings("anything", blocklist=Blocklist.from_text("")) == []


def test_a_blocked_word_is_redacted_where_it_stands():
    blocklist = Blocklist.from_text("Maplewood High")

    redacted = privacy_redacted("Kai went to MAPLEWOOD  HIGH in 2010.", blocklist=blocklist)

    assert redacted == "Kai went to [withheld: blocklist] in 2010."


def test_an_entry_with_regex_characters_is_taken_literally():
    blocklist = Blocklist.from_text("a.b (c)\n[x]*")

    assert privacy_categories("Kai said a.b (c) twice", blocklist=blocklist) == ["blocklist"]
    assert privacy_categories("Kai said axb c", blocklist=blocklist) == []


# Public reports about memory systems that stored secrets and personal data, reduced.


def test_credentials_in_a_memory_file_are_withheld():
    """buildingjoshbetter/TrueMemory#277: MEMORY.md held `pass=Sa8gE6ci`, `pass=root`
    and a `ghp_…` token, loaded into every session."""
    assert privacy_categories("NAS: user=admin pass=Sa8gE6ci") == ["password"]
    assert privacy_categories("Pi credentials: pass=root") == ["password"]
    assert privacy_categories("Kai's GitHub token ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789") == [
        "api_key"
    ]


def test_an_ni_number_email_and_phone_in_one_memory_are_all_found():
    """Drakon-Systems-Ltd/ShieldCortex#510: 'National Insurance AB123456C, salary 55000,
    email..., phone...' was stored verbatim; only credentials were blocked."""
    text = (
        "National Insurance AB123456C, salary 55000, email jo.bloggs@example.co.uk, "
        "phone 07700 900123"
    )

    assert privacy_categories(text) == ["email", "phone", "national_id"]
    assert "55000" in privacy_redacted(text)  # a salary is not one of these


def test_the_masking_table_of_a_memory_plugin_is_all_withheld():
    """openclaw/openclaw#3026: the PII its memory plugin masks before writing: an email,
    a phone number, an SSN, a card number and a Stripe-style live key."""
    for text, category in [
        ("ceo@company.com", "email"),
        ("555-123-4567", "phone"),
        ("123-45-6789", "national_id"),
        ("4532-0151-1283-0366", "payment_card"),
        ("sk_live_51HxYzAbCdEfGhIjKlMnOpQr", "api_key"),
    ]:
        assert privacy_categories(f"Kai gave {text} in chat") == [category], text


def test_a_password_said_in_plain_words_is_withheld():
    """patibandlavenkatamanideep/memoryops-ai#103: 'my password is hunter2' scored low
    and was stored active, only structural patterns (cards, key formats) were caught."""
    assert privacy_categories("my password is hunter2") == ["password"]
    assert privacy_categories("The user's password is hunter2.") == ["password"]


def test_a_key_pasted_while_debugging_and_a_home_address_are_withheld():
    """tomcounsell/ai#1179: 'the staging API key is sk-…', 'my home address is X' were
    ingested as memories with no way out; arul28/ADE#87: 'remember this API key …'
    was auto-captured into project memory."""
    assert privacy_categories("The staging API key is sk-staging0123456789abcdefABCDEF") == [
        "api_key"
    ]
    assert privacy_categories("Remember this API key: 9f2c1e7a4b8d3f60") == ["api_key"]
    assert privacy_categories("My home address is 12 Elm Street, Leeds") == ["address"]


# What the runs record.


@pytest.mark.django_db
def test_a_run_counts_what_was_withheld_by_kind_and_redacts_the_answer():
    run = suggestion_run_record(
        reply_message_id=5,
        kept=1,
        decided=0,
        skipped=0,
        withheld={"phone": 2, "password": 1, "email": 0},
        problems=["item 4: content: Field required"],
        answer='{"memories": [{"content": "Kai\'s number is +44 20 7946 0958"}, {"x": 1}]}',
    )

    assert (run.withheld, run.withheld_categories) == (3, {"phone": 2, "password": 1})
    assert "7946" not in run.answer and "[withheld: phone]" in run.answer


@pytest.mark.django_db
def test_a_run_redacts_blocked_words_in_the_answer_it_keeps():
    run = suggestion_run_record(
        reply_message_id=5,
        kept=0,
        decided=0,
        skipped=0,
        problems=["the answer holds no suggestions in a known shape"],
        answer="Kai went to Maplewood High.",
        blocklist=Blocklist.from_text("Maplewood High"),
    )

    assert run.answer == "Kai went to [withheld: blocklist]."


@pytest.mark.django_db
def test_a_run_refuses_a_category_it_does_not_know():
    with pytest.raises(ValueError, match="favourite_colour"):
        suggestion_run_record(
            reply_message_id=5,
            kept=0,
            decided=0,
            skipped=0,
            withheld={"favourite_colour": 1},
            problems=[],
            answer="",
        )


@pytest.mark.django_db
def test_the_totals_add_up_what_was_withheld_by_kind_over_the_days_asked():
    def record(days_ago: int, withheld: dict[str, int]) -> None:
        run = suggestion_run_record(
            reply_message_id=None,
            kept=0,
            decided=0,
            skipped=0,
            withheld=withheld,
            problems=[],
            answer="",
        )
        when = timezone.now() - timedelta(days=days_ago)
        SuggestionRun.objects.filter(pk=run.pk).update(created_at=when)

    record(10, {"email": 5})
    record(2, {"phone": 1, "password": 1})
    record(1, {"phone": 2})
    record(0, {})

    totals = SuggestionRun.objects.since(days=7).totals()

    assert totals["withheld"] == 4
    assert totals["withheld_categories"] == {"phone": 3, "password": 1}
    assert list(totals["withheld_categories"]) == ["phone", "password"]  # most first
