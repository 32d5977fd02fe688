"""Stand-ins for discord.py's interaction objects: the edge of the world in these tests.

They record what the bot asked Discord to do (with timestamps, to check the edit
rate) instead of sending it, and play Discord's rules: an interaction answered
more than 3 seconds (of the interaction's clock) after it arrived is gone
(NotFound 10062); the first follow-up of a "thinking…" response replaces it and
keeps its visibility, whatever it asks for.
"""

import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import discord

MISSING: Any = object()
DISCORD_LIMIT = 2000
ACK_WINDOW = 3.0


class FakeClock:
    """The interaction's clock: it moves only when a test says time passed."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def unknown_interaction() -> discord.NotFound:
    response = SimpleNamespace(status=404, reason="Not Found")
    return discord.NotFound(response, {"code": 10062, "message": "Unknown interaction"})  # type: ignore[arg-type]


def checked(content: str) -> str:
    """Refuse what Discord refuses: empty or over-long message content."""
    assert content.strip(), "Discord refuses an empty message"
    assert len(content) <= DISCORD_LIMIT, f"Discord refuses {len(content)} characters"
    return content


@dataclass(frozen=True)
class FakeRole:
    id: int


@dataclass
class FakeMember:
    id: int
    display_name: str
    roles: list[FakeRole] = field(default_factory=list)


@dataclass
class FakeChannel:
    id: int
    name: str = "general"
    sent: list["FakeMessage"] = field(default_factory=list)

    async def send(self, content: str, *, view: Any = None) -> "FakeMessage":
        message = FakeMessage(content=checked(content), ephemeral=False, view=view)
        self.sent.append(message)
        return message


_ids = iter(range(10_000, 1_000_000))


@dataclass
class FakeMessage:
    content: str
    ephemeral: bool = False
    view: Any = None
    id: int = field(default_factory=lambda: next(_ids))
    edits: list[float] = field(default_factory=list)
    deleted: bool = False

    async def edit(self, *, content: str = MISSING, view: Any = MISSING) -> "FakeMessage":
        if content is not MISSING:
            self.content = checked(content)
        if view is not MISSING:
            self.view = view
        self.edits.append(time.monotonic())
        return self

    async def delete(self) -> None:
        self.deleted = True


class FakeResponse:
    def __init__(self, interaction: "FakeInteraction") -> None:
        self.interaction = interaction
        self.deferred = False
        self.deferred_ephemeral = False
        self.thinking = False  # a "thinking…" message waits for its first follow-up
        self.done = False

    def is_done(self) -> bool:
        return self.done

    def _respond(self, kind: str) -> None:
        assert not self.done, "an interaction is answered once"
        if self.interaction.clock() - self.interaction.arrived_at > ACK_WINDOW:
            self.interaction.log.append(f"{kind} too late")
            raise unknown_interaction()
        self.interaction.log.append(kind)
        self.done = True

    async def defer(self, *, thinking: bool = False, ephemeral: bool = False) -> None:
        self._respond("defer")
        self.deferred = True
        if self.interaction.is_component and not thinking:
            # A button's deferred update: the original response is the button's message.
            self.interaction.original = self.interaction.message
            return
        self.thinking = True
        self.deferred_ephemeral = ephemeral
        self.interaction.original = FakeMessage(content="", ephemeral=ephemeral)

    async def send_message(self, content: str, *, ephemeral: bool = False) -> None:
        self._respond("send_message")
        self.interaction.original = FakeMessage(content=checked(content), ephemeral=ephemeral)

    async def edit_message(self, *, content: str = MISSING, view: Any = MISSING) -> None:
        self._respond("edit_message")
        assert self.interaction.message is not None
        await self.interaction.message.edit(content=content, view=view)


class FakeFollowup:
    def __init__(self, interaction: "FakeInteraction") -> None:
        self.interaction = interaction
        self.sent: list[FakeMessage] = []

    async def send(
        self, content: str, *, ephemeral: bool = False, wait: bool = False
    ) -> FakeMessage:
        response = self.interaction.response
        assert response.is_done(), "follow-ups come after a response"
        self.interaction.log.append("followup")
        original = self.interaction.original
        if response.thinking and original is not None and not original.deleted:
            response.thinking = False
            original.content = checked(content)
            return original
        message = FakeMessage(content=checked(content), ephemeral=ephemeral)
        self.sent.append(message)
        return message


class FakeInteraction:
    def __init__(
        self,
        *,
        user: FakeMember,
        channel: FakeChannel | None = None,
        message: FakeMessage | None = None,
        clock: FakeClock | None = None,
    ) -> None:
        self.id = next(_ids)
        self.user = user
        self.channel = channel or FakeChannel(id=555)
        self.channel_id = self.channel.id
        self.message = message
        self.clock = clock or FakeClock()
        self.arrived_at = self.clock()
        self.log: list[str] = []  # what was asked of Discord, in order (tests add "work")
        self.original: FakeMessage | None = None
        self.response = FakeResponse(self)
        self.followup = FakeFollowup(self)

    @property
    def is_component(self) -> bool:
        """A button press (it has the button's message) rather than a slash command."""
        return self.message is not None

    async def edit_original_response(
        self, *, content: str = MISSING, view: Any = MISSING
    ) -> FakeMessage:
        assert self.response.is_done(), "there is no original response yet"
        assert self.original is not None and not self.original.deleted
        self.log.append("edit_original")
        self.response.thinking = False
        return await self.original.edit(content=content, view=view)

    async def delete_original_response(self) -> None:
        assert self.original is not None
        self.original.deleted = True

    @property
    def public_texts(self) -> list[str]:
        """What everyone in the channel sees, in order."""
        return [m.content for m in self._messages() if not m.ephemeral]

    @property
    def ephemeral_texts(self) -> list[str]:
        return [m.content for m in self._messages() if m.ephemeral]

    def _messages(self) -> list[FakeMessage]:
        # A button's own message is not something the interaction said.
        original = None if self.original is self.message else self.original
        return [m for m in [original, *self.followup.sent] if m and not m.deleted]
