"""Folders outside the project that its tools read; no Django, nothing done at import
(bench/ and tests/ use this before or without settings)."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def corpus_dir() -> Path:
    """The shared kremlin.ru sample (tests marked `corpus`, bench/): KZ_CORPUS_DIR, by
    default ../shared/corpus/kremlin-2025-sample beside the project root. May not exist."""
    return Path(os.environ.get("KZ_CORPUS_DIR") or PROJECT_ROOT.parent / "shared" / "corpus" / "kremlin-2025-sample")
