"""Suggestion accuracy on LoCoMo: the facts Luma's AI suggestions propose, against the
facts the dataset's authors annotated for each speaker.

LoCoMo's conversations (../shared/bench/locomo/README.md) are replayed session by
session through the pipeline the chat uses, `chat.suggestions.memory_suggestions_report`
(prompt with the known facts and the streamer's rules, lenient reading, privacy
screen and blocklist, dedupe, storage as pending suggestions), with the provider
configured the way a fresh Luma is: the environment variables of the README
(`MODEL_PROVIDER`, `DEEPSEEK_API_KEY`, `OLLAMA_ENDPOINT`, `OLLAMA_MODEL`, …; the
built-in SmolLM2 model when none is set) or `--provider`. Each speaker is a user
account; each turn is a message by its speaker, answered by the other speaker's next
turn as the reply (the last turn of a session gets an empty reply), so every turn is
asked about once and a fact "about the speaker" is about the one who said it.

A proposal matches an annotated observation (the session's `observation` for the
fact's subject, both speakers' for a fact about everyone) when their MiniLM cosine
similarity is at least `--threshold` (0.70), one to one, best pairs first. 0.70 was
chosen on this data: two different observations of one speaker in one session reach
it 11% of the time (their 90th percentile is 0.71), an observation and the turn it
was written from 40% (median 0.66); a proposal worded like an observation scores
higher than a raw turn. Proposals stay pending (nobody approves them), so a later one
repeating an earlier one counts as a duplicate.

Printed: precision (matched proposals / proposals), recall (matched observations /
observations) and F1, for the suggestions kept and for every fact the model proposed
before the pipeline's filters; the duplicate rate (proposals repeating a pending or
approved fact); how many were withheld (by kind), below the importance threshold,
already decided, and the parts of answers dropped as not understood; and a few
matched and unmatched examples, since the annotations are not perfect.

    .venv/bin/python bench/suggestions.py ../shared/bench/locomo/locomo_dev.json \\
        [--conversations 1] [--sessions 1] [--turns 0] [--provider builtin] [--threshold 0.7]
"""

import argparse
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchenv import django_setup

django_setup("suggestions")

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402

from chat.models import Conversation, Message, Role  # noqa: E402
from chat.suggestions import CandidateOutcome, memory_suggestions_report  # noqa: E402
from luma.services import runtime_settings_get, runtime_settings_update  # noqa: E402
from memories.embeddings import embedder_get  # noqa: E402
from memories.privacy import CATEGORY_LABELS  # noqa: E402
from providers.registry import provider_model  # noqa: E402

# The test settings benchenv uses wait 5 s for a model server; a real one may need more.
settings.LUMA_PROVIDER_TIMEOUT = int(os.environ.get("LUMA_PROVIDER_TIMEOUT", "60"))

_SESSION = re.compile(r"session_(\d+)")


@dataclass
class Proposal:
    """One fact the model proposed, whom it is about (a speaker, or None for everyone)
    and what the pipeline did with it."""

    content: str
    speaker: str | None
    outcome: str
    category: str = ""


@dataclass
class SessionResult:
    proposals: list[Proposal] = field(default_factory=list)
    observations: dict[str, list[str]] = field(default_factory=dict)
    dropped: int = 0
    failed: int = 0
    exchanges: int = 0


def sessions_of(sample: dict[str, Any]) -> list[str]:
    """The session keys that hold turns, in order (some date keys have no session)."""
    conversation = sample["conversation"]
    keys = [key for key in conversation if _SESSION.fullmatch(key) and conversation[key]]
    return sorted(keys, key=lambda key: int(key.split("_")[1]))


def turn_text(turn: dict[str, Any]) -> str:
    text = turn["text"]
    if turn.get("blip_caption"):
        text += f" [shares a photo of {turn['blip_caption']}]"
    return text


def speaker_accounts(sample: dict[str, Any]) -> dict[str, User]:
    conversation = sample["conversation"]
    names = [conversation["speaker_a"], conversation["speaker_b"]]
    return {
        name: User.objects.get_or_create(username=f"{sample['sample_id']}-{name}"[:150])[0]
        for name in names
    }


def _proposal(item: CandidateOutcome, speaker: str) -> Proposal:
    about = None if item.candidate.about == "everyone" else speaker
    return Proposal(item.candidate.content, about, item.outcome, item.category)


def replay_session(
    sample: dict[str, Any], key: str, users: dict[str, User], turns: int
) -> SessionResult:
    """Each turn as a message, the next turn as its reply, through the pipeline."""
    result = SessionResult()
    said = sample["conversation"][key][: turns or None]
    observed = sample.get("observation", {}).get(f"{key}_observation", {})
    result.observations = {name: [fact[0] for fact in facts] for name, facts in observed.items()}
    conversation = Conversation.objects.create(title=f"{sample['sample_id']} {key}")
    for position, turn in enumerate(said):
        speaker = turn["speaker"]
        question = Message.objects.create(
            conversation=conversation,
            role=Role.USER,
            content=turn_text(turn),
            author_user=users.get(speaker),
            author_name=speaker,
        )
        following = said[position + 1] if position + 1 < len(said) else None
        reply = Message.objects.create(
            conversation=conversation,
            role=Role.ASSISTANT,
            content=turn_text(following) if following else "",
            reply_to=question,
        )
        report = memory_suggestions_report(reply_message_id=reply.pk)
        result.exchanges += 1
        if report is None:  # the provider failed: logged by the pipeline
            result.failed += 1
            continue
        result.proposals += [_proposal(item, speaker) for item in report.items]
        result.dropped += len(report.dropped)
    return result


@dataclass
class Matched:
    pairs: list[tuple[Proposal, str, float]]  # a proposal, its observation, their cosine
    proposals: int
    observations: int


def match(
    proposals: list[Proposal], observations: dict[str, list[str]], threshold: float
) -> Matched:
    """One-to-one matching of proposals to the observations of their subject (both
    speakers for a fact about everyone), best cosine first, at or above `threshold`."""
    facts = [(name, fact) for name, items in observations.items() for fact in items]
    if not proposals or not facts:
        return Matched([], len(proposals), len(facts))
    vectors = embedder_get().embed([p.content for p in proposals] + [fact for _, fact in facts])
    left, right = vectors[: len(proposals)], vectors[len(proposals) :]
    scored = []
    for i, proposal in enumerate(proposals):
        for j, (name, _) in enumerate(facts):
            if proposal.speaker is None or proposal.speaker == name:
                scored.append((float(left[i] @ right[j]), i, j))
    pairs, used_p, used_o = [], set(), set()
    for similarity, i, j in sorted(scored, reverse=True):
        if similarity < threshold:
            break
        if i not in used_p and j not in used_o:
            used_p.add(i)
            used_o.add(j)
            pairs.append((proposals[i], facts[j][1], similarity))
    return Matched(pairs, len(proposals), len(facts))


def scores(matched: list[Matched]) -> tuple[int, int, int, float, float, float]:
    hits = sum(len(m.pairs) for m in matched)
    proposed = sum(m.proposals for m in matched)
    observed = sum(m.observations for m in matched)
    precision = hits / proposed if proposed else 0.0
    recall = hits / observed if observed else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return proposed, hits, observed, 100 * precision, 100 * recall, 100 * f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a LoCoMo JSON file (a list of samples)")
    parser.add_argument("--conversations", type=int, default=1, help="how many (0: all)")
    parser.add_argument("--sessions", type=int, default=1, help="per conversation (0: all)")
    parser.add_argument("--turns", type=int, default=0, help="per session (0: all)")
    parser.add_argument("--provider", choices=["builtin", "deepseek", "ollama"])
    parser.add_argument("--threshold", type=float, default=0.70, help="cosine for a match")
    parser.add_argument("--examples", type=int, default=3)
    args = parser.parse_args()
    samples = json.loads(args.path.read_text())[: args.conversations or None]
    call_command("migrate", verbosity=0)
    if args.provider:
        runtime_settings_update(provider=args.provider)
    row = runtime_settings_get()
    if embedder_get() is None:
        raise SystemExit("No embedder (LUMA_EMBEDDING_SOURCE=none): matching needs MiniLM.")

    results: list[SessionResult] = []
    started = time.perf_counter()
    for sample in samples:
        users = speaker_accounts(sample)
        for key in sessions_of(sample)[: args.sessions or None]:
            results.append(replay_session(sample, key, users, args.turns))
    elapsed = time.perf_counter() - started
    report(args, row, results, elapsed, len(samples))


def report(
    args: argparse.Namespace,
    row: Any,
    results: list[SessionResult],
    elapsed: float,
    conversations: int,
) -> None:
    exchanges = sum(r.exchanges for r in results)
    model = provider_model(row, None)
    print(
        f"LoCoMo suggestions: {conversations} conversation(s), {len(results)} session(s), "
        f"{exchanges} exchanges; provider {row.provider} ({model}); {elapsed:.0f} s "
        f"({elapsed / max(1, exchanges):.1f} s an exchange)"
    )
    print(
        f"match: MiniLM cosine >= {args.threshold:.2f}, one to one, against the session's "
        "observations of the fact's subject (both speakers' for a fact about everyone)"
    )
    kept = [
        match([p for p in r.proposals if p.outcome == "kept"], r.observations, args.threshold)
        for r in results
    ]
    raw = [match(r.proposals, r.observations, args.threshold) for r in results]
    print(f"{'':<28}{'n':>5}{'matched':>9}{'precision':>11}{'recall':>8}{'F1':>7}")
    for label, matched in (("kept suggestions", kept), ("every fact proposed", raw)):
        proposed, hits, _, precision, recall, f1 = scores(matched)
        print(f"{label:<28}{proposed:>5}{hits:>9}{precision:>11.1f}{recall:>8.1f}{f1:>7.1f}")
    print(f"{'annotated observations':<28}{scores(kept)[2]:>5}")

    outcomes = Counter(p.outcome for r in results for p in r.proposals)
    withheld = Counter(p.category for r in results for p in r.proposals if p.outcome == "withheld")
    total = sum(outcomes.values())
    kinds = ", ".join(f"{CATEGORY_LABELS[k]}: {n}" for k, n in withheld.most_common()) or "none"
    print(
        f"{total} facts proposed: kept {outcomes['kept']}, duplicate {outcomes['duplicate']} "
        f"({100 * outcomes['duplicate'] / max(1, total):.1f}% duplicate rate), below the "
        f"importance threshold {outcomes['unimportant']}, already decided {outcomes['decided']}, "
        f"withheld {outcomes['withheld']} ({kinds}); parts of answers dropped as not "
        f"understood: {sum(r.dropped for r in results)}"
    )
    failed = sum(r.failed for r in results)
    if failed:
        print(f"{failed} of {exchanges} exchanges got no answer from the provider (see the log)")
    pairs = [pair for m in kept for pair in m.pairs]
    hit_ids = {id(pair[0]) for pair in pairs}
    observed = {pair[1] for pair in pairs}
    unmatched = [
        p for r in results for p in r.proposals if p.outcome == "kept" and id(p) not in hit_ids
    ]
    missed = [
        fact
        for r in results
        for facts in r.observations.values()
        for fact in facts
        if fact not in observed
    ]
    for proposal, observation, similarity in pairs[: args.examples]:
        print(f"  matched {similarity:.2f}: {proposal.content!r} ~ {observation!r}")
    for proposal in unmatched[: args.examples]:
        about = proposal.speaker or "everyone"
        print(f"  unmatched proposal (about {about}): {proposal.content!r}")
    for text in missed[: args.examples]:
        print(f"  missed observation: {text!r}")


if __name__ == "__main__":
    main()
