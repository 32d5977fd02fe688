"""AI-suggested memories: ask the model for facts worth keeping from an exchange.

Runs in a background task (`chat.tasks`) after a reply is stored, never on the
reply's path. Small local models paraphrase the shape they are asked for, so the
answer is read tolerantly (`suggestions_parse`): every usable fact is kept, what
cannot be understood is dropped item by item, and each run's counts go to a
`memories.SuggestionRun` that moderators see on the suggestion panels and in the
admin. Whether each candidate is new is decided by `memories.dedupe`.

The streamer's rules for what is worth remembering (`RuntimeSettings.memory_rules`)
end the model's instructions; what it proposes anyway is screened before anything
is stored: a fact holding a secret, personal data or a blocklist word
(`memories.privacy`) is withheld, never proposed, and counted by category only.
"""

import json
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import json_repair
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from chat.models import Message, Role
from luma.services import runtime_settings_get
from memories.changes import Surface, memory_changes_by
from memories.dedupe import memory_relation
from memories.models import IMPORTANCE_DEFAULT, IMPORTANCE_MAX, IMPORTANCE_MIN, Memory, MemorySource
from memories.privacy import CATEGORY_LABELS, Blocklist, privacy_categories
from memories.review import suggestion_auto_approve
from memories.selectors import memories_visible_to, memory_rank
from memories.services import memory_create, suggestion_run_record
from memories.subjects import Subject
from providers.base import ChatMessage
from providers.errors import ProviderError
from providers.reasoning import reasoning_removed
from providers.registry import chat_options_from, provider_build

logger = logging.getLogger(__name__)

SUGGESTION_PROMPT = """You pick facts worth remembering long-term from a chat exchange.
Answer with JSON only, exactly this shape:
{"memories": [{"content": "...", "importance": 1-10, "tags": ["..."], "about": "speaker",
  "confidence": 0-1}]}
- content: one short self-contained fact in the third person, naming who it is about.
- importance: 1-3 trivia, 4-6 useful context, 7-8 important, 9-10 core identity.
- about: "speaker" for a fact about the person talking, "everyone" for a general fact.
- updates: only when the fact changes one of the known facts listed below, that fact's id.
- confidence: how sure you are that the fact is true and lasting, from 0 to 1.
- Only lasting facts (preferences, plans, names, relationships), not small talk, and
  nothing the known facts already say.
- Never a secret or personal data: no password, key or token, email address, phone
  number, home address, or card or account number.
- If nothing is worth remembering, answer {"memories": []}."""
RULES_HEADING = "The streamer's rules for what to remember (they come before the rules above):"

MAX_CANDIDATES, MAX_TAGS, MAX_TAG_CHARS = 20, 10, 50
_EVERYONE = frozenset({"everyone", "everybody", "all", "global", "general", "community"})
_IMPORTANCE_WORDS = {"low": 3, "medium": 5, "moderate": 5, "high": 8}
_NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)(?:\s*/\s*(\d+(?:\.\d+)?))?$")
_MEMORY_ID = re.compile(r"^(?:id\s*)?#?(\d+)$", re.IGNORECASE)
_JSON_OPENER = re.compile(r"[\[{]")
# A list starts with a value; an object may start with an unquoted key (`{memories: …}`),
# but `[as asked]` in prose is not JSON.
_JSON_LOOKING = re.compile(r"\[\s*[\"'\[{]|\{\s*[\"'\[{A-Za-z_]")
_BATCH_KEYS = ("memories", "facts", "suggestions")
_CONTENT_KEYS = ("content", "fact", "memory", "text")


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value


def _importance_of_text(text: str) -> float | None:
    """7 from "7", "7/10" or "7.0"; 6 from "3/5"; 8 from "high"; None otherwise."""
    text = text.strip().lower()
    if text in _IMPORTANCE_WORDS:
        return _IMPORTANCE_WORDS[text]
    match = _NUMBER.match(text)
    if match is None:
        return None
    scale = float(match[2] or 10)
    return float(match[1]) * 10 / scale if scale else None


def _importance(value: Any) -> int:
    """An importance on the 1-10 scale from a number or numeric text (rounded,
    clamped); the default when there is none to read."""
    if isinstance(value, str):
        value = _importance_of_text(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return IMPORTANCE_DEFAULT
    return min(IMPORTANCE_MAX, max(IMPORTANCE_MIN, math.floor(value + 0.5)))


def _tags(value: Any) -> list[str]:
    """Tags from a list or a comma-separated string: trimmed (a leading # too), at
    most 10, each at most 50 characters; anything else is no tags."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    words = (str(tag).strip().lstrip("#").strip() for tag in value if isinstance(tag, str | int))
    return [word[:MAX_TAG_CHARS] for word in words if word][:MAX_TAGS]


def _about(value: Any) -> str:
    """Everyone for a general fact ("everyone", "all", "global", "general", "community").
    Anything else (user, me, viewer, the speaker's name, a word we do not know) is
    about the speaker: a fact kept private to the person it may concern is the safe
    mistake; a private fact shown to everyone is not."""
    is_everyone = isinstance(value, str) and value.strip().lower() in _EVERYONE
    return "everyone" if is_everyone else "speaker"


def _updates(value: Any) -> int | None:
    """A memory id from 12, 12.0, "12", "id 12" or "#12"; None otherwise."""
    if isinstance(value, str) and (match := _MEMORY_ID.match(value.strip())):
        value = int(match[1])
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


_CONFIDENCE_WORDS = {"low": 0.2, "medium": 0.5, "moderate": 0.5, "high": 0.8}


def _confidence(value: Any) -> float | None:
    """A confidence from 0 to 1 from 0.85, "0.85", "85%", 85 or "8.5/10" (a number
    over 1 is read as a percentage), or "low", "medium", "high"; None for anything
    else, which never lets a suggestion be approved automatically."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _CONFIDENCE_WORDS:
            return _CONFIDENCE_WORDS[text]
        percent = text.endswith("%")
        match = _NUMBER.match(text.rstrip("%").strip())
        if match is None:
            return None
        number = float(match[1])
        if match[2] is not None:
            number = number / float(match[2]) if float(match[2]) else -1.0
        value = number / 100 if percent else number
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if 1 < value <= 100:
        value = value / 100
    return float(value) if 0 <= value <= 1 else None


_PLACEHOLDERS = {"none", "null", "n/a", "nothing", "no memories", "no facts"}


def _not_a_placeholder(content: str) -> str:
    """A model saying "None" (as a string) means no fact, not a fact called None."""
    if content.strip(" .!\"'").lower() in _PLACEHOLDERS:
        raise ValueError("the content says there is nothing to remember")
    return content


class SuggestedMemory(BaseModel):
    """One candidate fact. The model may write `content` as `fact`, `memory` or
    `text`; every other field is read leniently (see its validator) and unknown
    keys are ignored. Only a missing or unusable content makes an item unusable."""

    model_config = ConfigDict(extra="ignore")

    content: Annotated[
        str,
        BeforeValidator(_without_nul),
        StringConstraints(strip_whitespace=True, min_length=3, max_length=500),
        AfterValidator(_not_a_placeholder),
    ] = Field(validation_alias=AliasChoices(*_CONTENT_KEYS))
    importance: Annotated[int, BeforeValidator(_importance)] = IMPORTANCE_DEFAULT
    tags: Annotated[list[str], BeforeValidator(_tags)] = Field(default_factory=list)
    about: Annotated[Literal["speaker", "everyone"], BeforeValidator(_about)] = "speaker"
    updates: Annotated[int | None, BeforeValidator(_updates)] = None
    confidence: Annotated[float | None, BeforeValidator(_confidence)] = None


@dataclass(frozen=True)
class ParsedSuggestions:
    """A model's answer, read: the usable candidates, and one reason per part dropped."""

    memories: list[SuggestedMemory]
    dropped: list[str]


def _json_at(text: str, start: int) -> tuple[Any, bool]:
    """The JSON value starting at `start`, and whether it was cut off (its brackets
    never close: the model ran out of tokens); raises ValueError. What small models
    write instead of JSON (trailing commas, single quotes, unquoted keys, Python's
    None and True, a cut-off end) is repaired by `json_repair` within the value."""
    try:
        return json.JSONDecoder().raw_decode(text, start)[0], False
    except ValueError:
        if not _JSON_LOOKING.match(text, start):
            raise
    end = _closing_bracket(text, start)
    value = json_repair.loads(text[start : end + 1] if end >= 0 else text[start:])
    if value == "" or value is None:
        raise ValueError("nothing could be repaired into JSON")
    return value, end < 0


def _closing_bracket(text: str, start: int) -> int:
    """Where the bracket opened at `start` closes (quotes of either kind skipped), or -1
    when it never does."""
    depth, quote, escaped = 0, "", False
    for position in range(start, len(text)):
        char = text[position]
        if quote:
            escaped = char == "\\" and not escaped
            if char == quote and not escaped:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return position
    return -1


def _first_json_value(text: str) -> tuple[Any, bool, bool]:
    """The first JSON object or list in `text`, wherever it sits (in prose, in a
    Markdown fence), or None; whether JSON-looking text before it was broken; and
    whether the value was cut off."""
    broken = False
    for attempt, opener in enumerate(_JSON_OPENER.finditer(text)):
        if attempt == 200:
            break
        try:
            value, cut_off = _json_at(text, opener.start())
            return value, broken, cut_off
        except ValueError:
            broken = broken or bool(_JSON_LOOKING.match(text, opener.start()))
    return None, broken, False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _items_of(value: Any) -> list[Any] | None:
    """The items of {"memories"|"facts"|"suggestions": [...]}, of a bare list, or a
    single item; None when the value is none of these."""
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        return None
    for key in (*_BATCH_KEYS, *_CONTENT_KEYS):  # mem0 also answers {"memory": [...]}
        if isinstance(value.get(key), list) or (key in _BATCH_KEYS and key in value):
            return _as_list(value[key])
    if not value:
        return []
    return [value] if any(key in value for key in _CONTENT_KEYS) else None


def _candidate(item: Any) -> SuggestedMemory:
    """An item as a candidate (a bare string is its content); raises ValidationError."""
    return SuggestedMemory.model_validate({"content": item} if isinstance(item, str) else item)


def _reason(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def suggestions_parse(text: str) -> ParsedSuggestions:
    """Read a model's answer to `SUGGESTION_PROMPT`, keeping every usable fact.

    Accepted around the JSON: prose, a Markdown fence, a `<think>…</think>` prefix.
    Accepted shapes: {"memories": [item, …]} (or "facts", "suggestions"), a bare
    list [item, …], or a single item; an item is an object (`SuggestedMemory`) or a
    bare string (its content). Dropped, one reason each: an answer with no such
    value, an item without usable content, items past the 20th, and broken JSON
    before the value read.
    """
    value, broken, cut_off = _first_json_value(reasoning_removed(text))
    items = _items_of(value)
    if items is None:
        return ParsedSuggestions([], ["the answer holds no suggestions in a known shape"])
    memories: list[SuggestedMemory] = []
    dropped = ["part of the answer is broken JSON"] if broken else []
    if cut_off and items:  # the last item stops mid-way: its fact would be wrong
        items = items[:-1]
        dropped.append(f"item {len(items) + 1}: the answer was cut off in the middle of it")
    for position, item in enumerate(items, start=1):
        if position > MAX_CANDIDATES:
            dropped.append(f"item {position}: more than {MAX_CANDIDATES} in one answer")
            continue
        try:
            memories.append(_candidate(item))
        except ValidationError as error:
            dropped.append(f"item {position}: {_reason(error)}")
    return ParsedSuggestions(memories, dropped)


def _question_of(reply: Message) -> Message | None:
    return (
        Message.objects.filter(
            conversation=reply.conversation, role=Role.USER, created_at__lte=reply.created_at
        )
        .exclude(pk=reply.pk)
        .order_by("-created_at", "-pk")
        .first()
    )


def _known_for_prompt(question: Message | None, text: str) -> list[Memory]:
    """Approved memories the model should know of, to revise rather than repeat them."""
    if question is None:
        return []
    visible = memories_visible_to(user=question.author_user, discord_id=question.author_discord_id)
    return [item.memory for item in memory_rank(queryset=visible, query=text, pool=10, limit=10)]


def suggestion_prompt(rules: str) -> str:
    """`SUGGESTION_PROMPT`, followed by the streamer's rules (one a line; list marks
    and blank lines are tidied) when there are any."""
    lines = [line.strip().lstrip("-•*").strip() for line in rules.splitlines()]
    listed = "\n".join(f"- {line}" for line in lines if line)
    return f"{SUGGESTION_PROMPT}\n\n{RULES_HEADING}\n{listed}" if listed else SUGGESTION_PROMPT


def _exchange_messages(
    question: Message | None, reply: Message, known: list[Memory], rules: str = ""
) -> list[ChatMessage]:
    speaker = question.author_name if question is not None else "someone"
    said = question.content if question is not None else ""
    exchange = f"{speaker} said: {said}\nThe persona replied: {reply.content}"
    if known:
        facts = "\n".join(f"- id {memory.pk}: {memory.content}" for memory in known)
        exchange += f"\n\nKnown facts:\n{facts}"
    return [
        {"role": "system", "content": suggestion_prompt(rules)},
        {"role": "user", "content": exchange},
    ]


def _subject_of(question: Message | None, candidate: SuggestedMemory) -> tuple[Subject, str]:
    """Who the candidate is about, and their name."""
    if candidate.about == "everyone" or question is None:
        return Subject(), ""
    if question.author_user_id:
        return Subject(user_id=question.author_user_id), question.author_name
    return Subject(discord_id=question.author_discord_id), question.author_name


Outcome = Literal["kept", "decided", "duplicate", "unimportant", "withheld"]


@dataclass(frozen=True)
class CandidateOutcome:
    """What became of one fact the model proposed: `kept` (stored as a pending
    suggestion, `memory`), `decided` (a person already rejected it or approved it in
    other words), `duplicate` (an approved or pending fact says it), `unimportant`
    (below the importance threshold) or `withheld` (it holds `category`, one of
    `memories.privacy.CATEGORY_LABELS`)."""

    candidate: SuggestedMemory
    outcome: Outcome
    memory: Memory | None = None
    category: str = ""


@dataclass(frozen=True)
class SuggestionReport:
    """One exchange's suggestions: each understood fact's outcome, and why each part
    of the answer that could not be understood was dropped."""

    items: list[CandidateOutcome]
    dropped: list[str]

    @property
    def created(self) -> list[Memory]:
        return [item.memory for item in self.items if item.memory is not None]


def memory_suggestions_report(*, reply_message_id: int) -> SuggestionReport | None:
    """Ask the model for memories from the exchange ending in this reply, with the
    streamer's rules; withhold what holds a secret, personal data or a blocklist word,
    store the rest pending (unless known, decided or unimportant), and record the run.
    None when the reply does not exist or the provider failed (logged)."""
    reply = Message.objects.select_related("conversation").filter(pk=reply_message_id).first()
    if reply is None:
        return None
    row = runtime_settings_get()
    question = _question_of(reply)
    known = _known_for_prompt(question, f"{question.content if question else ''} {reply.content}")
    messages = _exchange_messages(question, reply, known, row.memory_rules)
    try:
        answer = provider_build(row).complete(messages, chat_options_from(row, json_mode=True))
    except ProviderError as error:
        logger.warning("No memory suggestions for message %s: %s", reply.pk, error.message)
        return None
    parsed = suggestions_parse(answer.text)
    blocklist = Blocklist.from_text(row.memory_blocklist)
    shown = {memory.pk: memory for memory in known}
    items = [
        _candidate_outcome(candidate, question, row.memory_suggestion_threshold, shown, blocklist)
        for candidate in parsed.memories
    ]
    report = SuggestionReport(items, parsed.dropped)
    _run_record(reply, report, answer.text, blocklist)
    return report


def memory_suggestions_from_reply(*, reply_message_id: int) -> list[Memory]:
    """`memory_suggestions_report`'s new pending suggestions (none when it failed)."""
    report = memory_suggestions_report(reply_message_id=reply_message_id)
    return report.created if report is not None else []


def _run_record(reply: Message, report: SuggestionReport, text: str, blocklist: Blocklist) -> None:
    if report.dropped:
        logger.warning(
            "Dropped %d part(s) of the memory suggestions for message %s: %s",
            len(report.dropped),
            reply.pk,
            "; ".join(report.dropped),
        )
    outcomes = Counter(item.outcome for item in report.items)
    withheld = Counter(item.category for item in report.items if item.outcome == "withheld")
    suggestion_run_record(
        reply_message_id=reply.pk,
        kept=outcomes["kept"],
        decided=outcomes["decided"],
        skipped=outcomes["duplicate"] + outcomes["unimportant"],
        withheld=withheld,
        problems=report.dropped,
        answer=text,
        blocklist=blocklist,
    )


def _withheld_because(candidate: SuggestedMemory, blocklist: Blocklist) -> str:
    """The first category of secret or personal data in the candidate's text or tags
    ("" for none)."""
    found = privacy_categories("\n".join([candidate.content, *candidate.tags]), blocklist=blocklist)
    return found[0] if found else ""


def _candidate_outcome(
    candidate: SuggestedMemory,
    question: Message | None,
    threshold: int,
    known: dict[int, Memory],
    blocklist: Blocklist,
) -> CandidateOutcome:
    """Withhold the candidate, or store it unless it is unimportant, already known or
    pending, or a person already decided on its wording. The privacy screen comes
    first, so that a secret is counted as withheld whatever its importance."""
    category = _withheld_because(candidate, blocklist)
    if category:
        logger.info("A suggestion was withheld (%s).", CATEGORY_LABELS[category])
        return CandidateOutcome(candidate, "withheld", category=category)
    if candidate.importance < threshold:
        return CandidateOutcome(candidate, "unimportant")
    subject, name = _subject_of(question, candidate)
    relation, existing = memory_relation(content=candidate.content, subject=subject)
    if relation == "new" and candidate.updates in known:
        # The model says which fact changed; only facts it was shown qualify.
        relation, existing = "update", known[candidate.updates]
    if relation in ("duplicate", "decided"):
        seen = existing.pk if existing else None
        logger.info("Suggestion %r: %s of memory %s; skipped.", candidate.content, relation, seen)
        return CandidateOutcome(candidate, relation)
    return CandidateOutcome(
        candidate, "kept", _suggestion_store(candidate, question, subject, name, existing, relation)
    )


def _suggestion_store(
    candidate: SuggestedMemory,
    question: Message | None,
    subject: Subject,
    name: str,
    existing: Memory | None,
    relation: str,
) -> Memory:
    """Store the candidate as a pending suggestion about `subject`: an update of
    `existing` when `relation` is "update". Approved at once when the owner's
    auto-approval applies to it (`memories.review.auto_approval_applies`)."""
    about: dict[str, Any] = {
        "subject_user": question.author_user if subject.user_id is not None else None,
        "subject_discord_id": subject.discord_id,
        "subject_name": name,
    }
    with memory_changes_by(surface=Surface.AI):
        memory = memory_create(
            content=candidate.content,
            source=MemorySource.AI_SUGGESTED,
            importance=candidate.importance,
            tags=candidate.tags,
            updates=existing if relation == "update" else None,
            confidence=candidate.confidence,
            **about,
        )
        source = question.channel if question is not None else ""
        suggestion_auto_approve(memory=memory, source=source, settings=runtime_settings_get())
        return memory


def memory_suggestions_request(*, reply: Message) -> bool:
    """Queue the suggestion task for a stored reply when the setting is on."""
    if not runtime_settings_get().memory_suggestions_enabled:
        return False
    from chat.tasks import memory_suggestions_task  # the tasks module imports this one

    memory_suggestions_task.enqueue(reply_message_id=reply.pk)
    return True
