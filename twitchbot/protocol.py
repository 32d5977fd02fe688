"""Twitch's dialect of IRC, on top of the `irc` library's asyncio client.

Twitch chat is IRC with IRCv3 tags: a bot sends `PASS oauth:<token>` and `NICK`, asks
for `twitch.tv/tags twitch.tv/commands`, and then each `PRIVMSG` carries the sender's
id, display name, badges, message id and time as tags; a reply in a thread is a
`PRIVMSG` with a `reply-parent-msg-id` tag; refusals come as `NOTICE` with a `msg-id`
tag (`msg_ratelimit`, `msg_duplicate`…). See https://dev.twitch.tv/docs/irc/.
"""

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from irc.client import Event
from irc.client_aio import AioConnection
from jaraco.stream import buffer

CAPABILITIES = "twitch.tv/tags twitch.tv/commands"
# A Twitch line may carry up to 8,191 bytes of tags before a 512-byte message
# (IRCv3 message tags); a 500-character reply is up to 2,000 bytes in UTF-8, more
# than the 512 bytes the irc library allows by default.
MAX_LINE_BYTES = 8191 + 2048
# What Twitch says when it refuses a login (and the variants bots have met: "Login
# unsuccessful" for a token of the wrong kind, "authentification" misspelt, "Error
# logging in"); the connection closes after it, and reconnecting cannot help.
AUTH_FAILURES = (
    "login authentication failed",
    "login authentification failed",
    "login unsuccessful",
    "improperly formatted auth",
    "invalid nick",
    "error logging in",
)


class InvalidTwitchUrl(ValueError):
    pass


@dataclass(frozen=True)
class ServerAddress:
    host: str
    port: int
    tls: bool

    def __str__(self) -> str:
        return f"{'ircs' if self.tls else 'irc'}://{self.host}:{self.port}"


def server_address(url: str) -> ServerAddress:
    """`ircs://host[:6697]` (TLS) or `irc://host[:6667]` (plain, for a local server)."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("irc", "ircs") or not parsed.hostname:
        raise InvalidTwitchUrl(
            f"TWITCH_IRC_URL must look like ircs://irc.chat.twitch.tv:6697, not {url!r}."
        )
    try:
        port = parsed.port
    except ValueError:
        raise InvalidTwitchUrl(f"TWITCH_IRC_URL has a bad port: {url!r}.") from None
    tls = parsed.scheme == "ircs"
    return ServerAddress(parsed.hostname, port or (6697 if tls else 6667), tls)


def channel_name(raw: str) -> str:
    """A channel as Twitch names it: its owner's login, lower case, without '#'."""
    return raw.strip().lstrip("#").lower()


def escape_tag_value(value: str) -> str:
    """An IRCv3 tag value, escaped (`;` `space` `\\` CR LF)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\:")
        .replace(" ", "\\s")
        .replace("\r", "\\r")
        .replace("\n", "\\n")
    )


class TwitchConnection(AioConnection):
    """The irc library's asyncio connection, with Twitch's line length and a
    decoder that never fails on a bad byte (a broken emoji from a client)."""

    buffer_class = buffer.LenientDecodingLineBuffer

    def pass_(self, password: str) -> None:
        """The capabilities first, then the login (the order of Twitch's guide)."""
        self.send_raw(f"CAP REQ :{CAPABILITIES}")
        super().pass_(password)

    def _prep_message(self, string: str) -> bytes:
        if "\n" in string or "\r" in string:
            raise ValueError("A chat line cannot contain a line break.")
        data = self.encode(string) + b"\r\n"
        if len(data) > MAX_LINE_BYTES:
            raise ValueError("The chat line is too long.")
        return data


def event_tags(event: Event) -> dict[str, str]:
    return {tag["key"]: tag["value"] or "" for tag in (event.tags or [])}


def _badges(raw: str) -> frozenset[str]:
    return frozenset(part.split("/", 1)[0] for part in raw.split(",") if part)


@dataclass(frozen=True)
class ChatLine:
    """A viewer's chat message, as Twitch's tags describe it."""

    channel: str
    user_id: str
    login: str
    display_name: str
    text: str
    message_id: str
    sent_at: float  # seconds since the epoch (tmi-sent-ts), or when it arrived
    badges: frozenset[str]
    moderator: bool

    @property
    def is_broadcaster(self) -> bool:
        return "broadcaster" in self.badges or self.login == self.channel

    @property
    def is_moderator(self) -> bool:
        return self.moderator or self.is_broadcaster or "moderator" in self.badges


def chat_line(event: Event, *, now: float | None = None) -> ChatLine:
    tags = event_tags(event)
    login = (event.source.nick if event.source else "").lower()
    sent = tags.get("tmi-sent-ts", "")
    sent_at = int(sent) / 1000 if sent.isdigit() else (now or time.time())
    return ChatLine(
        channel=channel_name(event.target or ""),
        user_id=tags.get("user-id", ""),
        login=login,
        display_name=tags.get("display-name") or login,
        text=event.arguments[0] if event.arguments else "",
        message_id=tags.get("id", ""),
        sent_at=sent_at,
        badges=_badges(tags.get("badges", "")),
        moderator=tags.get("mod") == "1",
    )


def notice_id(event: Event) -> str:
    return event_tags(event).get("msg-id", "")


def notice_text(event: Event) -> str:
    return event.arguments[0] if event.arguments else ""


def is_auth_failure(event: Event) -> bool:
    text = notice_text(event).lower()
    return any(failure in text for failure in AUTH_FAILURES)


def tags_of(**tags: Any) -> str:
    return ";".join(f"{key}={escape_tag_value(str(value))}" for key, value in tags.items())
