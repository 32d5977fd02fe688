"""Retrieval quality on LoCoMo: recall@5 and recall@10 of Luma's own memory retrieval.

Each conversation's turns go in as memories through `memories_create_bulk`
(embeddings computed as the task worker would), one conversation per subject,
each turn written at its session's date and time (as a memory is written when it
is said); each question is asked through `memory_rank` as prompts ask it (with the
context of each match: `with_context`; `--search` asks as the search API does,
matches only), against its own conversation only. recall@k is the share of a
question's evidence turns in the top k, averaged over questions (LoCoMo's Table 3).
The data and the numbers to beat are described in ../shared/bench/locomo/README.md.

    .venv/bin/python bench/locomo.py ../shared/bench/locomo/locomo_dev.json
    .venv/bin/python bench/locomo.py PATH --conversations conv-43,conv-44

`--conversations` measures those conversations only (to tune on some and check on
the others).
"""

import argparse
import json
import re
import statistics
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from benchenv import django_setup

django_setup("locomo")

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from memories.models import Memory  # noqa: E402
from memories.selectors import memory_rank  # noqa: E402
from memories.services import memories_create_bulk  # noqa: E402

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
_EVIDENCE = re.compile(r"D\s*:?\s*(\d+)\s*:\s*(\d+)")


def turn_text(turn: dict[str, Any], date: str) -> str:
    text = f"{turn['speaker']} ({date}): {turn['text']}"
    if turn.get("blip_caption"):
        text += f" [shares a photo of {turn['blip_caption']}]"
    return text


def session_time(text: str) -> datetime:
    """`1:56 pm on 8 May, 2023` in the current time zone."""
    naive = datetime.strptime(text, "%I:%M %p on %d %B, %Y")
    return timezone.make_aware(naive, timezone.get_current_timezone())


def ingest(sample: dict[str, Any]) -> dict[str, int]:
    """Store a conversation's turns, each written at its session's time; returns
    memory id by normalised dia_id."""
    conversation = sample["conversation"]
    memories: list[Memory] = []
    dia_ids: list[str] = []
    written: list[str] = []
    sessions = sorted(
        (key for key in conversation if re.fullmatch(r"session_\d+", key)),
        key=lambda key: int(key.split("_")[1]),
    )
    for session in sessions:
        date = conversation.get(f"{session}_date_time", "")
        for turn in conversation[session]:
            memories.append(
                Memory(
                    content=turn_text(turn, date),
                    subject_discord_id=sample["sample_id"],
                    subject_name=turn["speaker"],
                    tags=["locomo", normalised(turn["dia_id"])[0]],
                )
            )
            dia_ids.append(normalised(turn["dia_id"])[0])
            written.append(date)
    created = memories_create_bulk(memories=memories)
    for date in set(written):
        when = session_time(date)
        same = [memory.pk for memory, at in zip(created, written, strict=True) if at == date]
        Memory.objects.filter(pk__in=same).update(created_at=when, updated_at=when)
    return {dia_id: memory.pk for dia_id, memory in zip(dia_ids, created, strict=True)}


def normalised(evidence: str) -> list[str]:
    """`D8:6; D9:17`, `D:11:26`, `D30:05` → `D8:6`, `D9:17`, `D11:26`, `D30:5`."""
    return [f"D{int(a)}:{int(b)}" for a, b in _EVIDENCE.findall(evidence)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--conversations", help="sample ids, comma separated (default: all)")
    parser.add_argument(
        "--search", action="store_true", help="rank as the search API does (matches only)"
    )
    args = parser.parse_args()
    samples = json.loads(args.path.read_text())
    if args.conversations:
        chosen = set(args.conversations.split(","))
        samples = [sample for sample in samples if sample["sample_id"] in chosen]
    call_command("migrate", verbosity=0)

    recalls: dict[str, dict[int, list[float]]] = defaultdict(lambda: {5: [], 10: []})
    times: list[float] = []
    skipped = 0
    started = time.perf_counter()
    for sample in samples:
        ids = ingest(sample)
        memory_dia = {pk: dia for dia, pk in ids.items()}
        own = Memory.objects.filter(subject_discord_id=sample["sample_id"])
        for qa in sample["qa"]:
            evidence = {e for item in qa.get("evidence", []) for e in normalised(item)}
            evidence &= set(ids)
            if not evidence:
                skipped += 1
                continue
            began = time.perf_counter()
            ranked = memory_rank(
                queryset=own,
                query=qa["question"],
                pool=30,
                limit=10,
                with_context=not args.search,
            )
            times.append((time.perf_counter() - began) * 1000)
            found = [memory_dia[item.memory.pk] for item in ranked]
            category = CATEGORIES.get(qa["category"], str(qa["category"]))
            for k in (5, 10):
                share = len(evidence & set(found[:k])) / len(evidence)
                recalls[category][k].append(share)
                recalls["overall"][k].append(share)
    elapsed = time.perf_counter() - started

    print(f"{len(samples)} conversations, {len(times)} questions ({skipped} skipped: no evidence)")
    print(f"{'category':>12} {'n':>5} {'recall@5':>9} {'recall@10':>10}")
    for name in [*CATEGORIES.values(), "overall"]:
        if name in recalls:
            at5, at10 = recalls[name][5], recalls[name][10]
            print(
                f"{name:>12} {len(at5):>5} {100 * statistics.mean(at5):>9.1f} "
                f"{100 * statistics.mean(at10):>10.1f}"
            )
    ordered = sorted(times)
    print(
        f"per query: p50 {ordered[len(ordered) // 2]:.1f} ms, "
        f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.1f} ms; total {elapsed:.0f} s"
    )


if __name__ == "__main__":
    main()
