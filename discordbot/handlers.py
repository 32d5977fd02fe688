"""What each slash command and button does, as plain async functions.

They take a `discord.Interaction` (or anything shaped like one: tests fake it)
and reach Luma only through its services, run in worker threads with
`database_sync_to_async`: the bot's event loop never touches the ORM and never
blocks on a model server.

Each one acknowledges (defers) before any work: Discord drops an interaction
not answered within 3 seconds, and a search or a model can take longer.
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import discord
from channels.db import database_sync_to_async

from chat.models import Channel, ReplyStatus
from chat.services import (
    ReplyEvent,
    ReplyStored,
    Speaker,
    conversation_for_discord_channel,
    conversation_reply_stream,
)
from discordbot.formatting import DISCORD_MESSAGE_LIMIT, split_message
from discordbot.services import (
    DiscordMember,
    discord_memories_list,
    discord_memory_forget,
    discord_memory_remember,
    suggestion_review,
)
from luma.errors import LumaError
from luma.relay import ThreadRelay
from memories.models import Memory
from memories.services import SuggestionAlreadyReviewed
from providers.reasoning import ReplyWasReasoning

logger = logging.getLogger(__name__)

# Discord allows about five edits of a message in five seconds; one a second
# leaves room for the other messages of a long reply.
EDIT_INTERVAL = 1.0
SOMETHING_WENT_WRONG = "Something went wrong on my side. Try again in a moment."
EPHEMERAL_LIMIT = 500  # error messages stay short
UNKNOWN_INTERACTION = 10062  # Discord's code for an interaction past its 3-second window


def member_of(interaction: discord.Interaction[Any]) -> DiscordMember:
    user = interaction.user
    roles = getattr(user, "roles", None) or []  # a Member in a server, a User in DMs
    return DiscordMember(
        id=user.id, name=user.display_name, role_ids=frozenset(role.id for role in roles)
    )


def channel_title(interaction: discord.Interaction[Any]) -> str:
    name = getattr(interaction.channel, "name", None)
    if name:
        return f"Discord #{name}"
    if getattr(interaction, "guild_id", None):
        return f"Discord channel {interaction.channel_id}"
    return f"Discord DM with {interaction.user.display_name}"


def _short(message: str) -> str:
    return message if len(message) <= EPHEMERAL_LIMIT else message[: EPHEMERAL_LIMIT - 1] + "…"


class ReplyWriter:
    """Shows a growing reply in Discord: the interaction's original response, then
    follow-up messages past 2,000 characters, editing at most once per `interval`."""

    def __init__(
        self,
        interaction: discord.Interaction[Any],
        *,
        interval: float = EDIT_INTERVAL,
        limit: int = DISCORD_MESSAGE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interaction = interaction
        self.interval = interval
        self.limit = limit
        self.clock = clock
        self.text = ""
        self.pending = False
        self.shown: list[str] = []
        self.followups: list[Any] = []
        self.last_shown_at = -math.inf

    def add(self, chunk: str) -> None:
        self.text += chunk
        self.pending = True

    def wait_time(self) -> float:
        return max(0.0, self.last_shown_at + self.interval - self.clock())

    async def flush(self) -> None:
        self.pending = False
        if self.text.strip():
            await self._show(self.text)

    async def finish(self, text: str) -> None:
        """Show the stored reply, keeping to the edit rate."""
        await asyncio.sleep(self.wait_time())
        self.text = text
        await self.flush()

    async def discard(self) -> None:
        """Remove what was shown of a reply that failed."""
        for message in [*self.followups]:
            await _quietly(message.delete())
        await _quietly(self.interaction.delete_original_response())
        self.followups.clear()
        self.shown.clear()

    async def _show(self, text: str) -> None:
        parts = split_message(text, self.limit)
        for index, part in enumerate(parts):
            if index < len(self.shown) and self.shown[index] == part:
                continue
            if index == 0:
                await self.interaction.edit_original_response(content=part)
            elif index <= len(self.followups):
                await self.followups[index - 1].edit(content=part)
            else:
                self.followups.append(await self.interaction.followup.send(part, wait=True))
            if index < len(self.shown):
                self.shown[index] = part
            else:
                self.shown.append(part)
        for message in self.followups[max(len(parts) - 1, 0) :]:
            await _quietly(message.delete())
        del self.followups[max(len(parts) - 1, 0) :]
        self.shown = self.shown[: len(parts)]
        self.last_shown_at = self.clock()


async def _quietly(action: Any) -> None:
    try:
        await action
    except discord.HTTPException as error:
        logger.info("Discord refused a clean-up call: %s", error)


def _conversation_events(
    *, channel_id: str, title: str, speaker: Speaker, text: str, should_stop: Callable[[], bool]
) -> Iterator[ReplyEvent]:
    """The conversation service for this channel (on a reply thread: it blocks)."""
    conversation = conversation_for_discord_channel(channel_id=channel_id, title=title)
    yield from conversation_reply_stream(
        conversation=conversation, speaker=speaker, text=text, should_stop=should_stop
    )


@dataclass
class _ChatOutcome:
    """How a /chat reply ended: stored (complete or partial), failed, or both (a
    reply that broke off after some text is stored, then its error raised)."""

    stored: ReplyStored | None = None
    error: LumaError | None = None


# Shown under a reply that did not end complete (Discord's small-text Markdown).
STATUS_NOTES = {
    ReplyStatus.LENGTH: "-# Cut off by the reply length limit.",
    ReplyStatus.INTERRUPTED: "-# The model server failed in the middle of this reply.",
    ReplyStatus.STOPPED: "-# Stopped.",
}
ANSWERED_TOGETHER = "I answered this together with the messages just before it, above."


async def _stream_reply(
    interaction: discord.Interaction[Any], text: str, writer: ReplyWriter
) -> _ChatOutcome:
    """Run the conversation for this channel and show its reply's chunks as they come
    (a reasoning model's thinking is never shown)."""
    member = member_of(interaction)
    speaker = Speaker(discord_id=member.discord_id, name=member.name, channel=Channel.DISCORD)
    relay: ThreadRelay[ReplyEvent] = ThreadRelay(
        lambda abandoned: _conversation_events(
            channel_id=str(interaction.channel_id),
            title=channel_title(interaction),
            speaker=speaker,
            text=text,
            should_stop=abandoned,
        )
    )
    outcome = _ChatOutcome()
    try:
        while True:
            try:
                event = await relay.next(writer.wait_time() if writer.pending else None)
            except TimeoutError:
                await writer.flush()
                continue
            except LumaError as error:
                outcome.error = error
                return outcome
            if event is None:
                return outcome
            if isinstance(event, str):
                writer.add(event)
                if writer.wait_time() == 0:
                    await writer.flush()
            elif isinstance(event, ReplyWasReasoning):
                writer.text = ""  # what showed was thinking: the answer replaces it
            elif isinstance(event, ReplyStored):
                outcome.stored = event
    finally:
        relay.abandon()  # Discord failed us mid-reply: let the model stop too


async def handle_chat(
    interaction: discord.Interaction[Any],
    message: str,
    *,
    edit_interval: float = EDIT_INTERVAL,
    limit: int = DISCORD_MESSAGE_LIMIT,
) -> None:
    """/chat: answer as the persona, streaming into the channel's messages."""
    if not await _acknowledge(interaction, thinking=True):
        return
    writer = ReplyWriter(interaction, interval=edit_interval, limit=limit)
    try:
        outcome = await _stream_reply(interaction, message, writer)
    except Exception:
        logger.exception("The /chat reply failed")
        await _fail(interaction, writer, SOMETHING_WENT_WRONG)
        return
    stored = outcome.stored
    if stored is None:
        if outcome.error is not None:
            await _fail(interaction, writer, outcome.error.message_for(owner=False))
        else:
            await writer.discard()
        return
    await writer.finish(_reply_text(stored))
    if outcome.error is not None:
        await interaction.followup.send(
            _short(outcome.error.message_for(owner=False)), ephemeral=True
        )
    logger.info(
        "Replied in Discord channel %s (message %s, %s tokens, %s memories)",
        interaction.channel_id,
        stored.message.pk,
        stored.message.total_tokens,
        len(stored.memories),
    )


def _reply_text(stored: ReplyStored) -> str:
    """What the interaction shows: the reply, with a note when it did not end complete;
    a short pointer when an earlier reply in the channel already answered it."""
    if stored.together:
        return ANSWERED_TOGETHER
    note = STATUS_NOTES.get(stored.message.status)
    return f"{stored.message.content}\n{note}" if note else stored.message.content


async def _acknowledge(
    interaction: discord.Interaction[Any], *, ephemeral: bool = False, thinking: bool = False
) -> bool:
    """Defer the interaction; False when Discord's 3-second window had already closed.

    A command's "thinking…" message takes the visibility asked here, and so does
    its first follow-up, which replaces it. A button (no `thinking`) shows nothing:
    its own message is edited afterwards.
    """
    try:
        await interaction.response.defer(ephemeral=ephemeral, thinking=thinking)
    except discord.NotFound as error:
        if error.code != UNKNOWN_INTERACTION:
            raise
        logger.warning(
            "Discord interaction %s from user %s expired before it was acknowledged",
            interaction.id,
            interaction.user.id,
        )
        return False
    return True


async def _fail(interaction: discord.Interaction[Any], writer: ReplyWriter, message: str) -> None:
    # /chat defers publicly, and the first follow-up replaces the "thinking…"
    # message with its visibility: the error is private only once that is gone.
    await writer.discard()
    await interaction.followup.send(_short(message), ephemeral=True)


async def _respond(interaction: discord.Interaction[Any], content: str) -> None:
    """An answer only the caller sees, cut to one message (at a line break) if need be."""
    await interaction.followup.send(split_message(content)[0], ephemeral=True)


async def _answer_privately(
    interaction: discord.Interaction[Any], command: str, work: Callable[[], str]
) -> None:
    """Acknowledge at once, run `work` (sync: services, search) on a worker thread,
    then replace the private "thinking…" message with its answer or the error."""
    if not await _acknowledge(interaction, ephemeral=True, thinking=True):
        return
    try:
        answer = await database_sync_to_async(work)()
    except LumaError as error:
        answer = error.message_for(owner=False)
    except Exception:
        logger.exception("The %s command failed", command)
        answer = SOMETHING_WENT_WRONG
    await _respond(interaction, answer)


async def handle_remember(
    interaction: discord.Interaction[Any], text: str, *, about_everyone: bool = False
) -> None:
    """/remember: add a memory about the caller (or, for moderators, about everyone)."""
    member = member_of(interaction)

    def remember() -> str:
        memory = discord_memory_remember(member=member, content=text, about_everyone=about_everyone)
        about = "about everyone" if about_everyone else "about you"
        return f"Got it! I'll remember this {about} (memory #{memory.pk})."

    await _answer_privately(interaction, "/remember", remember)


async def handle_memories(interaction: discord.Interaction[Any], query: str = "") -> None:
    """/memories: what the persona remembers about the caller, and only the caller."""
    member = member_of(interaction)

    def list_memories() -> str:
        return memories_text(discord_memories_list(member=member, query=query), query=query)

    await _answer_privately(interaction, "/memories", list_memories)


def memories_text(memories: list[Memory], *, query: str = "") -> str:
    if not memories:
        if query:
            return f"I remember nothing about you matching “{query}”."
        return "I don't remember anything about you yet. Tell me with /remember!"
    lines = [f"**What I remember about you**{f' (matching “{query}”)' if query else ''}:"]
    lines += [f"`#{memory.pk}` {_one_line(memory.content)}" for memory in memories]
    lines.append("Use /forget with a number to make me forget one.")
    return "\n".join(lines)


def _one_line(text: str, width: int = 150) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


async def handle_forget(interaction: discord.Interaction[Any], memory_id: int) -> None:
    """/forget: delete one of the caller's memories (nobody else's)."""
    member = member_of(interaction)

    def forget() -> str:
        discord_memory_forget(member=member, memory_id=memory_id)
        return f"Done: I forgot memory #{memory_id}."

    await _answer_privately(interaction, "/forget", forget)


def suggestion_text(memory: Memory) -> str:
    """The moderation-channel post for a pending suggestion."""
    about = memory.subject_label
    revises = f", revising memory #{memory.updates_id}" if memory.updates_id else ""
    return (
        f"**Memory suggestion #{memory.pk}** (about {about}, importance "
        f"{memory.importance}{revises})\n>>> {_one_line(memory.content, 1500)}"
    )


async def handle_review_button(
    interaction: discord.Interaction[Any], memory_id: int, *, approve: bool
) -> None:
    """Approve / Reject on a suggestion post: moderators only, once."""
    if not await _acknowledge(interaction):
        return
    member = member_of(interaction)
    try:
        await database_sync_to_async(suggestion_review)(
            member=member, memory_id=memory_id, approve=approve
        )
    except SuggestionAlreadyReviewed as error:
        await interaction.edit_original_response(view=None)
        await interaction.followup.send(error.message_for(owner=False), ephemeral=True)
        return
    except LumaError as error:
        await interaction.followup.send(_short(error.message_for(owner=False)), ephemeral=True)
        return
    except Exception:
        logger.exception("Reviewing suggestion %s failed", memory_id)
        await interaction.followup.send(SOMETHING_WENT_WRONG, ephemeral=True)
        return
    verdict = "✅ Approved" if approve else "❌ Rejected"
    original = interaction.message.content if interaction.message else ""
    await interaction.edit_original_response(
        content=f"{original}\n{verdict} by {member.name}"[:DISCORD_MESSAGE_LIMIT], view=None
    )
