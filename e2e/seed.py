"""Puts data into the browser tests' live server database.

Runs as a long-lived helper process next to the server (the tests' own
process has no access to that database): one JSON command per line on
stdin, one JSON answer per line on stdout. It calls Luma's services, the same
code the app itself uses.
"""

import json
import os
import sys
from types import SimpleNamespace
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "e2e.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402

from luma.services import (  # noqa: E402
    moderator_ensure,
    runtime_settings_get,
    runtime_settings_update,
)
from memories.models import Memory, MemorySource, MemoryStatus  # noqa: E402
from memories.review import suggestion_auto_approve  # noqa: E402
from memories.services import memory_create  # noqa: E402


def user(
    username: str, password: str, staff: bool = False, moderator: bool = False
) -> dict[str, Any]:
    found = User.objects.filter(username=username).first()
    if found is None:
        create = User.objects.create_superuser if staff else User.objects.create_user
        found = create(username=username, password=password)
    if moderator:
        moderator_ensure(username=username)
    return {"id": found.pk}


def settings(**changes: Any) -> dict[str, Any]:
    runtime_settings_get()
    row = runtime_settings_update(**changes)
    return {"provider": row.provider}


def memory(**fields: Any) -> dict[str, Any]:
    if "subject_username" in fields:
        fields["subject_user"] = User.objects.get(username=fields.pop("subject_username"))
    if "updates_id" in fields:
        fields["updates"] = Memory.objects.get(pk=fields.pop("updates_id"))
    created = memory_create(**fields)
    return {"id": created.pk, "status": created.status}


def suggestion(**fields: Any) -> dict[str, Any]:
    return memory(source=MemorySource.AI_SUGGESTED, **fields)


def memory_get(memory_id: int) -> dict[str, Any]:
    found = Memory.objects.filter(pk=memory_id).first()
    if found is None:
        return {"exists": False}
    return {"exists": True, "status": found.status, "content": found.content}


def suggestions_clear() -> dict[str, Any]:
    """Reject every pending suggestion, so a test starts with an empty queue."""
    pending = Memory.objects.filter(status=MemoryStatus.PENDING)
    return {"rejected": pending.update(status=MemoryStatus.REJECTED)}


def auto_approved(**fields: Any) -> dict[str, Any]:
    """A suggestion approved on arrival by auto-approval (from the web chat)."""
    created = suggestion(**fields)
    rules = SimpleNamespace(
        auto_approve_enabled=True,
        auto_approve_sources=["web"],
        auto_approve_min_importance=1,
        auto_approve_min_confidence=0.0,
    )
    memory = Memory.objects.get(pk=created["id"])
    suggestion_auto_approve(memory=memory, source="web", settings=rules)
    return {"id": memory.pk, "status": memory.status}


COMMANDS = {
    "suggestions_clear": suggestions_clear,
    "auto_approved": auto_approved,
    "user": user,
    "settings": settings,
    "memory": memory,
    "suggestion": suggestion,
    "memory_get": memory_get,
}


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"ok": COMMANDS[request.pop("cmd")](**request)}
        except Exception as error:  # reported to the test, which fails with it
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
