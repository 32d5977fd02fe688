"""Stand-ins for discord.py's interaction objects: the edge of the world in these tests.

They record what the bot asked Discord to do (with timestamps, to check the edit
rate) instead of sending it.
"""

import time
from dataclasses import dataclass, field
from typing import Any

MISSING: Any = object()
DISCORD_LIMIT = 2000


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
        self.done = False

    def is_done(self) -> bool:
        return self.done

    def _respond(self) -> None:
        assert not self.done, "an interaction is answered once"
        self.done = True

    async def defer(self, *, thinking: bool = False, ephemeral: bool = False) -> None:
        self._respond()
        self.deferred = True
        self.interaction.original = FakeMessage(content="", ephemeral=ephemeral)

    async def send_message(self, content: str, *, ephemeral: bool = False) -> None:
        self._respond()
        self.interaction.original = FakeMessage(content=checked(content), ephemeral=ephemeral)

    async def edit_message(self, *, content: str = MISSING, view: Any = MISSING) -> None:
        self._respond()
        assert self.interaction.message is not None
        await self.interaction.message.edit(content=content, view=view)


class FakeFollowup:
    def __init__(self, interaction: "FakeInteraction") -> None:
        self.interaction = interaction
        self.sent: list[FakeMessage] = []

    async def send(
        self, content: str, *, ephemeral: bool = False, wait: bool = False
    ) -> FakeMessage:
        assert self.interaction.response.is_done(), "follow-ups come after a response"
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
    ) -> None:
        self.user = user
        self.channel = channel or FakeChannel(id=555)
        self.channel_id = self.channel.id
        self.message = message
        self.original: FakeMessage | None = None
        self.response = FakeResponse(self)
        self.followup = FakeFollowup(self)

    async def edit_original_response(self, *, content: str) -> FakeMessage:
        assert self.original is not None and not self.original.deleted
        return await self.original.edit(content=content)

    async def delete_original_response(self) -> None:
        assert self.original is not None
        self.original.deleted = True

    @property
    def public_texts(self) -> list[str]:
        """What everyone in the channel sees, in order."""
        messages = [self.original, *self.followup.sent]
        return [m.content for m in messages if m and not m.deleted and not m.ephemeral]

    @property
    def ephemeral_texts(self) -> list[str]:
        messages = [self.original, *self.followup.sent]
        return [m.content for m in messages if m and not m.deleted and m.ephemeral]
