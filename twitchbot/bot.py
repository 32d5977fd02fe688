"""The Twitch chat bot: joins channels, answers what is asked of it, one at a time.

A live chat is a firehose, so the bot answers only a message that names it (`@bot`
or the persona's name) or starts with the command (`!ask …`), never its own or another
bot's; each viewer waits a cooldown between answers (moderators and the broadcaster
may skip it), each channel gets at most so many answers a minute, and a question that
waited longer than the stale limit (the bot fell behind) is skipped. Answers are
written one at a time per channel, in order, by the conversation service on a reply
thread; what goes out keeps to Twitch's message rate (20 per 30 s, 100 where the bot
is a moderator), replies in the viewer's thread, and passes the moderation filter
both ways. A dropped connection is reopened with back-off; a refused login ends the
bot with one clear line (`TwitchLoginFailed`).
"""

import asyncio
import contextlib
import logging
import random
import re
import ssl
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from irc.client import Event, ServerNotConnectedError
from irc.client_aio import AioReactor
from irc.connection import AioFactory

from chat.services import ReplyStored
from luma.errors import LumaError
from luma.relay import ThreadRelay
from twitchbot.formatting import twitch_messages
from twitchbot.protocol import (
    ChatLine,
    TwitchConnection,
    channel_name,
    chat_line,
    event_tags,
    is_auth_failure,
    notice_id,
    notice_text,
    server_address,
    tags_of,
)
from twitchbot.services import (
    TwitchRules,
    twitch_blocked_record,
    twitch_reply_events,
    twitch_rules_get,
)

logger = logging.getLogger(__name__)

RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
MESSAGES_WINDOW = 30.0  # Twitch counts messages over 30 seconds
MESSAGES_LIMIT, MESSAGES_LIMIT_AS_MODERATOR = 20, 100
DUPLICATE_WINDOW = 30.0  # Twitch refuses the same message twice within 30 seconds
DUPLICATE_SUFFIX = " \U000e0000"  # invisible; makes a repeated message a new one
RATE_LIMITED_PAUSE = 10.0
# Twitch closes a connection before its welcome for a refused login; when the NOTICE
# saying so is lost with the connection, this many such closes in a row mean the same.
REFUSED_LOGINS_LIMIT = 5
QUEUE_LIMIT = 100
SORRY = "Sorry, I can't answer right now. Try again in a moment."


class TwitchLoginFailed(Exception):
    """Twitch refused the token: no point reconnecting."""


class SlidingWindow:
    """At most `limit` events in any `window` seconds."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self.times: deque[float] = deque()

    def wait_time(self, limit: int) -> float:
        now = self.clock()
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        if len(self.times) < limit:
            return 0.0
        return self.times[-limit] + self.window - now

    def record(self) -> None:
        self.times.append(self.clock())

    async def wait(self, limit: int) -> None:
        while (delay := self.wait_time(limit)) > 0:
            await asyncio.sleep(delay)


@dataclass
class Question:
    line: ChatLine
    text: str


@dataclass
class Outgoing:
    text: str
    parent_id: str = ""
    attempts: int = 0
    vary: bool = False  # add the invisible suffix (Twitch said it was a duplicate)


@dataclass
class Outbox:
    items: deque[Outgoing] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    last: Outgoing | None = None
    last_text: str = ""
    last_at: float = -1e9

    def put(self, item: Outgoing, *, first: bool = False) -> None:
        (self.items.appendleft if first else self.items.append)(item)
        self.ready.set()


class TwitchBot:
    def __init__(
        self,
        *,
        token: str,
        channels: Sequence[str],
        url: str,
        nick: str = "",
        reconnect_delays: Sequence[float] = RECONNECT_DELAYS,
        keepalive: float = 360.0,
        rules_refresh: float = 10.0,
        messages_window: float = MESSAGES_WINDOW,
        rate_limited_pause: float = RATE_LIMITED_PAUSE,
    ) -> None:
        self.token = token.strip().removeprefix("oauth:")
        self.channels = [name for name in (channel_name(c) for c in channels) if name]
        self.address = server_address(url)
        self.nick = (nick or "justinfan_luma").strip().lower()
        self.reconnect_delays = tuple(reconnect_delays)
        self.keepalive = keepalive
        self.rules_refresh = rules_refresh
        self.rate_limited_pause = rate_limited_pause
        self.messages = SlidingWindow(messages_window)
        self.channel_answers: dict[str, SlidingWindow] = defaultdict(lambda: SlidingWindow(60.0))
        self.cooldowns: dict[tuple[str, str], float] = {}
        self.moderator_in: dict[str, bool] = {}
        self.login = self.nick
        self.user_id = ""
        self.login_failed = ""
        self.connections = 0  # how many times the bot got in (tests and logs)
        self.rules: TwitchRules | None = None

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        """Connect, answer, reconnect after drops, until `stop()`. Raises
        `TwitchLoginFailed` when Twitch refuses the token."""
        self.loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        self.dropped = asyncio.Event()
        self.joined = asyncio.Event()
        self.paused_until = 0.0
        self.last_heard = time.monotonic()
        self.queues: dict[str, asyncio.Queue[Question]] = {}
        self.outboxes: dict[str, Outbox] = {}
        self.rules = await database_sync_to_async(twitch_rules_get)()
        self.reactor = AioReactor(loop=self.loop)
        self.reactor.connection_class = TwitchConnection
        self._handlers()
        self.connection = self.reactor.server()
        tasks = [asyncio.create_task(self._refresh_rules()), asyncio.create_task(self._watch())]
        for channel in self.channels:
            self.queues[channel] = asyncio.Queue(QUEUE_LIMIT)
            self.outboxes[channel] = Outbox()
            tasks.append(asyncio.create_task(self._answer_loop(channel)))
            tasks.append(asyncio.create_task(self._send_loop(channel)))
        try:
            await self._stay_connected()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                self.connection.disconnect("Bye")

    def stop(self) -> None:
        """Thread-safe: disconnect and end `run()`."""
        self.loop.call_soon_threadsafe(self._stop)

    def _stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(Exception):
            self.connection.disconnect("Bye")

    async def _stay_connected(self) -> None:
        failures = 0
        refused_logins = 0  # connections closed before Twitch welcomed the bot, in a row
        while not self.stopping.is_set():
            self.dropped.clear()
            try:
                await self._connect()
            except OSError as error:
                logger.warning("Could not reach Twitch chat at %s: %s", self.address, error)
            else:
                await self.dropped.wait()
                self.joined.clear()
                if self.login_failed:
                    raise TwitchLoginFailed(self.login_failed)
                if self.stopping.is_set():
                    break
                if self._was_up:
                    failures = refused_logins = 0  # it worked: start the back-off again
                else:
                    refused_logins += 1
                if refused_logins >= REFUSED_LOGINS_LIMIT:
                    raise TwitchLoginFailed(
                        f"the server closed the connection before the login {refused_logins} "
                        "times in a row"
                    )
            delay = self.reconnect_delays[min(failures, len(self.reconnect_delays) - 1)]
            delay *= random.uniform(0.8, 1.2)  # spread reconnects out
            failures += 1
            logger.info("Reconnecting to Twitch chat in %.1f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)

    async def _connect(self) -> None:
        self._was_up = False
        factory = AioFactory(ssl=ssl.create_default_context()) if self.address.tls else AioFactory()
        logger.info("Connecting to Twitch chat at %s", self.address)
        self.last_heard = time.monotonic()
        await self.connection.connect(
            self.address.host,
            self.address.port,
            self.nick,
            password=f"oauth:{self.token}",
            connect_factory=factory,
        )

    # ------------------------------------------------------------------ IRC events

    def _handlers(self) -> None:
        on = self.reactor.add_global_handler
        on("all_raw_messages", self._on_raw, -10)
        on("welcome", self._on_welcome)
        on("join", self._on_join)
        on("pubmsg", self._on_message)
        on("action", self._on_message)
        on("pubnotice", self._on_notice)
        on("privnotice", self._on_notice)
        on("userstate", self._on_userstate)
        on("globaluserstate", self._on_globaluserstate)
        on("reconnect", self._on_reconnect)
        on("disconnect", self._on_disconnect)

    def _on_raw(self, connection: TwitchConnection, event: Event) -> None:
        self.last_heard = time.monotonic()

    def _on_welcome(self, connection: TwitchConnection, event: Event) -> None:
        self.login = (connection.real_nickname or self.nick).lower()
        self.connections += 1
        self._was_up = True
        logger.info(
            "Logged in to Twitch chat as %s; joining %s",
            self.login,
            ", ".join(f"#{channel}" for channel in self.channels),
        )
        for channel in self.channels:
            connection.join(f"#{channel}")

    def _on_join(self, connection: TwitchConnection, event: Event) -> None:
        if event.source and event.source.nick.lower() == self.login:
            logger.info("Joined #%s", channel_name(event.target or ""))
            self.joined.set()

    def _on_globaluserstate(self, connection: TwitchConnection, event: Event) -> None:
        self.user_id = event_tags(event).get("user-id", "")

    def _on_userstate(self, connection: TwitchConnection, event: Event) -> None:
        tags = event_tags(event)
        channel = channel_name(event.target or "")
        badges = tags.get("badges", "")
        self.moderator_in[channel] = (
            tags.get("mod") == "1" or "moderator/" in badges or "broadcaster/" in badges
        )

    def _on_reconnect(self, connection: TwitchConnection, event: Event) -> None:
        logger.info("Twitch asked the bot to reconnect")
        connection.disconnect("Reconnecting")

    def _on_disconnect(self, connection: TwitchConnection, event: Event) -> None:
        if not self.stopping.is_set() and not self.login_failed:
            logger.warning("The connection to Twitch chat dropped")
        self.dropped.set()

    def _on_notice(self, connection: TwitchConnection, event: Event) -> None:
        if is_auth_failure(event):
            self.login_failed = notice_text(event)
            connection.disconnect("Login failed")
            return
        kind = notice_id(event)
        channel = channel_name(event.target or "")
        outbox = self.outboxes.get(channel)
        if kind == "msg_ratelimit" and outbox is not None:
            logger.warning("Twitch says the bot sends too fast in #%s; pausing", channel)
            self.paused_until = time.monotonic() + self.rate_limited_pause
            self._resend(outbox, vary=False)
        elif kind == "msg_duplicate" and outbox is not None:
            self._resend(outbox, vary=True)
        elif kind.startswith("msg_"):
            logger.warning("Twitch refused a message in #%s: %s", channel, notice_text(event))
        else:
            logger.info("Twitch notice in #%s: %s", channel, notice_text(event))

    def _resend(self, outbox: Outbox, *, vary: bool) -> None:
        last = outbox.last
        if last is None or last.attempts >= 2:
            return
        outbox.last = None
        outbox.put(
            Outgoing(last.text, last.parent_id, last.attempts + 1, vary or last.vary), first=True
        )

    # ------------------------------------------------------------------ deciding

    def _on_message(self, connection: TwitchConnection, event: Event) -> None:
        line = chat_line(event)
        queue = self.queues.get(line.channel)
        question = self.question_in(line)
        if queue is None or question is None:
            return
        if not self._cooldown_passed(line):
            logger.debug("%s is in cooldown in #%s", line.login, line.channel)
            return
        try:
            queue.put_nowait(Question(line, question))
        except asyncio.QueueFull:
            logger.warning("Too many questions waiting in #%s; one is dropped", line.channel)

    def question_in(self, line: ChatLine) -> str | None:
        """What `line` asks the persona, or None when it is not for the persona."""
        rules = self.rules
        if rules is None:
            return None
        if line.login == self.login or (self.user_id and line.user_id == self.user_id):
            return None  # itself
        if line.login in rules.known_bots or line.display_name.lower() in rules.known_bots:
            return None
        text = line.text.strip()
        prefix = rules.command_prefix.lower()
        if prefix and (text.lower() == prefix or text.lower().startswith(prefix + " ")):
            return text[len(prefix) :].strip() or None
        mention = re.compile(rf"(?<![\w@])@{re.escape(self.login)}(?!\w)[,:]?", re.IGNORECASE)
        if self.login and mention.search(text):
            asked = mention.sub("", text, count=1) if mention.match(text) else text
            return asked.strip() or None
        name = rules.persona_name.strip()
        if name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE):
            return text
        return None

    def _cooldown_passed(self, line: ChatLine) -> bool:
        rules = self.rules
        assert rules is not None
        if rules.mods_skip_cooldown and line.is_moderator:
            return True
        key = (line.channel, line.user_id or line.login)
        now = time.monotonic()
        if now - self.cooldowns.get(key, -1e9) < rules.viewer_cooldown:
            return False
        self.cooldowns[key] = now
        return True

    # ------------------------------------------------------------------ answering

    async def _answer_loop(self, channel: str) -> None:
        queue = self.queues[channel]
        while True:
            question = await queue.get()
            try:
                await self.answer(question)
            except Exception:
                logger.exception("Answering in #%s failed", channel)

    async def answer(self, question: Question) -> None:
        line = question.line
        rules = self.rules
        assert rules is not None
        answers = self.channel_answers[line.channel]
        await answers.wait(rules.channel_rate)
        waited = time.time() - line.sent_at
        if waited > rules.stale_seconds:
            logger.info(
                "Skipped %s's question in #%s: %.0f s old", line.login, line.channel, waited
            )
            return
        if await self._blocked(rules, question.text, line, viewer=True):
            return
        answers.record()
        stored = await self._reply(question)
        if stored is None or not stored.message.content.strip():
            return
        reply = stored.message.content
        if await self._blocked(rules, reply, line, viewer=False):
            return
        outbox = self.outboxes[line.channel]
        for message in twitch_messages(reply):
            outbox.put(Outgoing(message, line.message_id))

    async def _blocked(
        self, rules: TwitchRules, text: str, line: ChatLine, *, viewer: bool
    ) -> bool:
        if rules.filter.empty:
            return False
        return await database_sync_to_async(twitch_blocked_record)(
            filter=rules.filter,
            text=text,
            viewer=viewer,
            channel=line.channel,
            name=line.display_name,
            user_id=line.user_id,
        )

    async def _reply(self, question: Question) -> ReplyStored | None:
        line = question.line
        relay = ThreadRelay(
            lambda abandoned: twitch_reply_events(
                channel=line.channel,
                user_id=line.user_id or line.login,
                display_name=line.display_name,
                text=question.text,
                abandoned=abandoned,
            )
        )
        stored: ReplyStored | None = None
        try:
            while (batch := await relay.next_batch()) is not None:
                stored = next((e for e in batch if isinstance(e, ReplyStored)), stored)
        except LumaError as error:
            logger.warning("No answer for %s in #%s: %s", line.login, line.channel, error)
            if stored is None:
                self.outboxes[line.channel].put(Outgoing(SORRY, line.message_id))
        finally:
            relay.abandon()
        return stored

    # ------------------------------------------------------------------ sending

    async def _send_loop(self, channel: str) -> None:
        outbox = self.outboxes[channel]
        while True:
            await outbox.ready.wait()
            if not outbox.items:
                outbox.ready.clear()
                continue
            await self.joined.wait()
            while (pause := self.paused_until - time.monotonic()) > 0:
                await asyncio.sleep(pause)
            limit = (
                MESSAGES_LIMIT_AS_MODERATOR if self.moderator_in.get(channel) else MESSAGES_LIMIT
            )
            await self.messages.wait(limit)
            if not outbox.items:
                continue
            item = outbox.items.popleft()
            self._send(channel, outbox, item)

    def _send(self, channel: str, outbox: Outbox, item: Outgoing) -> None:
        text = item.text
        repeated = text == outbox.last_text and time.monotonic() - outbox.last_at < DUPLICATE_WINDOW
        if item.vary or (repeated and outbox.last is not None and not outbox.last.vary):
            item.vary = True
            text += DUPLICATE_SUFFIX
        tags = f"@{tags_of(**{'reply-parent-msg-id': item.parent_id})} " if item.parent_id else ""
        try:
            self.connection.send_raw(f"{tags}PRIVMSG #{channel} :{text}")
        except ServerNotConnectedError:
            outbox.put(item, first=True)
            return
        self.messages.record()
        outbox.last, outbox.last_text, outbox.last_at = item, item.text, time.monotonic()

    # ------------------------------------------------------------------ upkeep

    async def _refresh_rules(self) -> None:
        while True:
            await asyncio.sleep(self.rules_refresh)
            try:
                self.rules = await database_sync_to_async(twitch_rules_get)()
            except Exception:
                logger.exception("Reading the Twitch settings failed; keeping the last ones")

    async def _watch(self) -> None:
        """Twitch pings every few minutes. After half of `keepalive` in silence the bot
        pings; silence past `keepalive` is a dead connection (a network change, a
        sleeping laptop), closed so that the bot reconnects."""
        pinged_at = 0.0
        while True:
            await asyncio.sleep(min(15.0, self.keepalive / 4))
            if not self.connection.is_connected():
                continue
            silent = time.monotonic() - self.last_heard
            if silent > self.keepalive:
                logger.warning("No word from Twitch for %.0f s: reconnecting", silent)
                self.connection.disconnect("Timed out")
            elif silent > self.keepalive / 2 and pinged_at < self.last_heard:
                pinged_at = time.monotonic()
                with contextlib.suppress(ServerNotConnectedError):
                    self.connection.send_raw("PING :tmi.twitch.tv")
