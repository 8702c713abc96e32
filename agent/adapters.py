"""Which LoRA adapter answers: the user's pick, else the registry's active one, else the starter.

Answering reads the registry's table (memory.models.Adapter); retrain/registry.py writes it.
"""
from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from agent.settings import Settings
from memory.models import Adapter
from memory.store import Memory

STARTER_ADAPTER = Path(__file__).parent / "starter_adapter"


def adapter_base(folder: Path) -> str | None:
    """The base model id an adapter was trained on, from its meta.json (None if it does not say)."""
    try:
        return json.loads((Path(folder) / "meta.json").read_text()).get("base_model") or None
    except (OSError, ValueError, AttributeError):
        return None


def adapter_files_ok(folder: Path) -> bool:
    """Weights in safetensors only: a .bin adapter would be unpickled, and a file from elsewhere
    (a backup, a download) must never run code."""
    folder = Path(folder)
    return (folder / "adapter_config.json").is_file() and (folder / "adapter_model.safetensors").is_file()


def adapter_choices(mem: Memory, settings: Settings) -> list[Path]:
    """Adapter folders in order of preference; answering falls back along this list:
    the settings' adapter, the active one, the previously active ones (newest first), the starter."""
    choices = [Path(settings.adapter)] if settings.adapter else []
    with mem.session() as s:
        rows = s.exec(select(Adapter).where(Adapter.status.in_(["active", "retired"]))
                      .order_by(Adapter.activated_at.desc())).all()
    rows.sort(key=lambda a: a.status != "active")  # stable: active first, then newest retired
    choices += [Path(a.path) for a in rows]
    if adapter_files_ok(STARTER_ADAPTER):
        choices.append(STARTER_ADAPTER)
    return list(dict.fromkeys(choices))
