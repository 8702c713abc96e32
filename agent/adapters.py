"""Which LoRA adapter answers: the user's choice, else the registry's active one, else the starter."""
from __future__ import annotations

from pathlib import Path

from agent.settings import Settings
from memory.home import Home

STARTER_ADAPTER = Path(__file__).parent / "starter_adapter"


def adapter_choices(home: Home, settings: Settings) -> list[Path]:
    """Adapter folders in order of preference; answering falls back along this list."""
    choices = []
    if settings.adapter:
        choices.append(Path(settings.adapter))
    active = home.adapters_dir / "active"
    if active.exists():
        choices.append(active.resolve())
    if (STARTER_ADAPTER / "adapter_config.json").exists():
        choices.append(STARTER_ADAPTER)
    return list(dict.fromkeys(choices))
