"""Where the lab keeps what it builds: one cache directory, overridable."""

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache root: $XENRR_CACHE, else ~/.cache/xenrr (created on demand)."""
    root = Path(os.environ.get("XENRR_CACHE") or Path.home() / ".cache" / "xenrr")
    root.mkdir(parents=True, exist_ok=True)
    return root
