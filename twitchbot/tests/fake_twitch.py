"""A local IRC server speaking Twitch's dialect, for the bot's tests.

It does what the bot meets on irc.chat.twitch.tv: `PASS`/`NICK` with the token checked
(`:tmi.twitch.tv NOTICE * :Login authentication failed` and a closed connection for a
wrong one), `CAP REQ` acknowledged, `JOIN` echoed with `USERSTATE` and `ROOMSTATE`,
`PING`/`PONG`, viewers' `PRIVMSG`s with Twitch's tags, and it records what the bot
sends. A test can also send any line, or drop every connection.
"""

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HOST = "tmi.twitch.tv"


def parse_tags(raw: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        key, _, value = item.partition("=")
        tags[key] = value.replace("\\s", " ").replace("\\:", ";").replace("\\\\", "\\")
    return tags


@dataclass(frozen=True)
class Sent:
    """A PRIVMSG the bot sent."""

    channel: str
    text: str
    tags: dict[str, str]

    @property
    def parent_id(self) -> str:
        return self.tags.get("reply-parent-msg-id", "")


class FakeTwitchServer:
    def __init__(self, *, token: str = "good-token", login: str = "lumabot") -> None:
        self.token = token
        self.login = login
        self.bot_user_id = "424242"
        self.lines: list[str] = []  # every line the bot sent
        self.sent: list[Sent] = []
        self.logins = 0
        self.connections = 0
        self.moderator = False
        self.send_notice = True  # False: a refused login closes without saying why
        self._frozen: set[asyncio.StreamWriter] = set()  # connections that went silent
        self.on_privmsg: Callable[[Sent], list[str]] | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()

    # ------------------------------------------------------------ life
    def __enter__(self) -> "FakeTwitchServer":
        self._thread = threading.Thread(target=self._run, name="fake-twitch", daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the fake Twitch server did not start"
        return self

    def __exit__(self, *exc: Any) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            for writer in list(self._writers):
                writer.close()

    @property
    def url(self) -> str:
        return f"irc://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ one client
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        password = ""
        try:
            while line := await reader.readline():
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                with self._lock:
                    self.lines.append(text)
                if writer in self._frozen:
                    continue
                password = self._handle(writer, text, password)
                if password is None:
                    await writer.drain()
                    await self._read_rest(reader)
                    break
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if writer in self._writers:
                self._writers.remove(writer)
            writer.close()

    async def _read_rest(self, reader: asyncio.StreamReader) -> None:
        """What the client sent after the refused login: closing a socket with unread
        input resets it, and the client could lose the NOTICE."""
        try:
            while await asyncio.wait_for(reader.read(4096), 0.2):
                pass
        except TimeoutError:
            pass

    def _write(self, writer: asyncio.StreamWriter, *lines: str) -> None:
        for line in lines:
            writer.write((line + "\r\n").encode())

    def _handle(self, writer: asyncio.StreamWriter, text: str, password: str) -> str | None:
        tags: dict[str, str] = {}
        if text.startswith("@"):
            raw, _, text = text.partition(" ")
            tags = parse_tags(raw[1:])
        command, _, rest = text.partition(" ")
        command = command.upper()
        if command == "PASS":
            return rest
        if command == "NICK":
            if password != f"oauth:{self.token}":
                if self.send_notice:
                    self._write(writer, f":{HOST} NOTICE * :Login authentication failed")
                return None
            self.logins += 1
            nick = self.login
            self._write(
                writer,
                f":{HOST} 001 {nick} :Welcome, GLHF!",
                f":{HOST} 002 {nick} :Your host is {HOST}",
                f":{HOST} 376 {nick} :>",
                f"@badge-info=;badges=;color=;display-name={nick};emote-sets=0;user-id="
                f"{self.bot_user_id};user-type= :{HOST} GLOBALUSERSTATE",
            )
        elif command == "CAP":
            self._write(writer, f":{HOST} CAP * ACK {rest.split(' ', 1)[1]}")
        elif command == "PING":
            self._write(writer, f":{HOST} PONG {HOST} {rest}")
        elif command == "JOIN":
            channel = rest.strip()
            badges = "moderator/1" if self.moderator else ""
            mod = "1" if self.moderator else "0"
            self._write(
                writer,
                f":{self.login}!{self.login}@{self.login}.{HOST} JOIN {channel}",
                f"@badge-info=;badges={badges};color=;display-name={self.login};emote-sets=0;"
                f"mod={mod};subscriber=0;user-type= :{HOST} USERSTATE {channel}",
                f"@emote-only=0;followers-only=-1;r9k=0;room-id=1;slow=0;subs-only=0 "
                f":{HOST} ROOMSTATE {channel}",
            )
        elif command == "PRIVMSG":
            channel, _, message = rest.partition(" :")
            sent = Sent(channel.lstrip("#"), message, tags)
            with self._lock:
                self.sent.append(sent)
            if self.on_privmsg is not None:
                self._write(writer, *self.on_privmsg(sent))
        return password

    # ------------------------------------------------------------ the test's side
    def _broadcast(self, line: str) -> None:
        def write() -> None:
            for writer in list(self._writers):
                self._write(writer, line)

        self.loop.call_soon_threadsafe(write)

    def send_raw(self, line: str) -> None:
        self._broadcast(line)

    def say(
        self,
        channel: str,
        text: str,
        *,
        login: str = "alice",
        user_id: str = "1001",
        display_name: str = "",
        badges: str = "",
        mod: bool = False,
        sent_at: float | None = None,
        message_id: str = "",
    ) -> str:
        """A viewer's message in `channel`; returns its message id."""
        message_id = message_id or str(uuid.uuid4())
        sent_ms = int((sent_at if sent_at is not None else time.time()) * 1000)
        tags = (
            f"@badge-info=;badges={badges};color=#1E90FF;display-name={display_name or login};"
            f"emotes=;first-msg=0;flags=;id={message_id};mod={1 if mod else 0};"
            f"returning-chatter=0;room-id=1;subscriber=0;tmi-sent-ts={sent_ms};turbo=0;"
            f"user-id={user_id};user-type="
        )
        self._broadcast(f"{tags} :{login}!{login}@{login}.{HOST} PRIVMSG #{channel} :{text}")
        return message_id

    def freeze(self) -> None:
        """Every open connection goes silent without closing (a dead network path)."""
        self.loop.call_soon_threadsafe(lambda: self._frozen.update(self._writers))

    def send_bytes(self, data: bytes) -> None:
        def write() -> None:
            for writer in list(self._writers):
                writer.write(data)

        self.loop.call_soon_threadsafe(write)

    def drop(self) -> None:
        """Close every connection, as when Twitch restarts a server."""

        def close() -> None:
            for writer in list(self._writers):
                writer.transport.abort()

        self.loop.call_soon_threadsafe(close)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out; the bot sent: {self.lines[-20:]}")

    def messages_in(self, channel: str) -> list[Sent]:
        with self._lock:
            return [sent for sent in self.sent if sent.channel == channel]
