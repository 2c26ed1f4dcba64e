"""Where deepviz keeps what it can make again: converted models, the demo set, uploaded queries."""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$DEEPVIZ_CACHE`` if set, else ``~/.cache/deepviz``; subfolders: models/, weights/, demo/, uploads/."""
    env = os.environ.get("DEEPVIZ_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "deepviz"


def weights_dir() -> Path:
    """Pretrained checkpoints fetched for the bundled models (kept apart from models/, which holds
    what deepviz converts from them and can always rebuild)."""
    return cache_root() / "weights"
