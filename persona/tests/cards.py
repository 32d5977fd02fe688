"""Real character cards, written the way SillyTavern and card sites write them."""

import base64
import io
import json
import zlib
from typing import Any

from PIL import Image, PngImagePlugin


def v2_card(name: str = "Aria", **data: Any) -> dict[str, Any]:
    return {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": name,
            "description": "{{char}} is a starship pilot who teases <USER>.",
            "personality": "brave, sarcastic",
            "scenario": "On the bridge of the Wanderer.",
            "first_mes": "Welcome aboard, {{user}}! I'm {{char}}.",
            "mes_example": "<START>\n{{user}}: Hi\n{{char}}: Buckle up.",
            "creator_notes": "Made for testing.",
            "system_prompt": "",
            "post_history_instructions": "",
            "alternate_greetings": ["Oh, it's you, {{user}}."],
            "tags": ["scifi"],
            "creator": "tester",
            "character_version": "1.2",
            "extensions": {"talkativeness": "0.5", "depth_prompt": {"prompt": "x", "depth": 4}},
            **data,
        },
    }


def v3_card(name: str = "Aria", **data: Any) -> dict[str, Any]:
    card = v2_card(name, **data)
    card.update({"spec": "chara_card_v3", "spec_version": "3.0"})
    card["data"].setdefault("group_only_greetings", [])
    card["data"].setdefault("nickname", "Ari")
    card["data"].setdefault(
        "assets", [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}]
    )
    return card


def lorebook(*entries: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "Wanderer lore",
        "extensions": {"world_id": 7},
        "entries": [
            {
                "keys": entry.get("keys", []),
                "content": entry["content"],
                "extensions": {"position": 1},
                "enabled": entry.get("enabled", True),
                "insertion_order": entry.get("insertion_order", 100),
                "constant": entry.get("constant", False),
                "id": number,
            }
            for number, entry in enumerate(entries)
        ],
    }


def b64(document: dict[str, Any] | str | bytes) -> str:
    if isinstance(document, dict):
        document = json.dumps(document)
    if isinstance(document, str):
        document = document.encode()
    return base64.b64encode(document).decode()


def png(
    chunks: dict[str, str] | None = None,
    *,
    size: tuple[int, int] = (64, 64),
    colour: tuple[int, int, int] = (200, 80, 160),
    compressed: bool = False,
) -> bytes:
    """A real PNG with text chunks written after the image data (as card writers do:
    Pillow writes PngInfo chunks before IDAT, so they are appended here)."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    data = out.getvalue()
    extra = b"".join(
        _chunk(b"zTXt", key.encode() + b"\0\0" + zlib.compress(value.encode()))
        if compressed
        else _chunk(b"tEXt", key.encode() + b"\0" + value.encode("latin-1"))
        for key, value in (chunks or {}).items()
    )
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + extra + data[iend:]


def itxt_png(key: str, value: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_itxt(key, value, zip=True)
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 20, 30)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def png_chunks(data: bytes) -> dict[str, str]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return dict(image.text)


def bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small file declaring a huge picture: its header says width x height."""
    data = png(size=(8, 8))
    header = data.index(b"IHDR")
    body = width.to_bytes(4, "big") + height.to_bytes(4, "big") + data[header + 12 : header + 17]
    return data[: header - 4] + _chunk(b"IHDR", body) + data[header + 21 :]
