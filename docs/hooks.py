"""mkdocs hook: the reference pages the code knows are rewritten before each build (docs/gen.py)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def on_pre_build(config, **kwargs) -> None:
    for path in (str(HERE.parent), str(HERE)):  # the project's packages, then gen.py
        if path not in sys.path:
            sys.path.insert(0, path)
    import gen

    gen.write()
