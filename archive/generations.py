"""Index generations: a rebuild is written beside the live index, then swapped in at once.

Layout: ``CURRENT`` names the live generation folder (``g-…``). Readers follow the pointer,
so they see the old index or the new one, never half of one. Both search engines use it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Generations:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def current_name(self) -> str | None:
        try:
            return (self.root / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def current(self) -> Path | None:
        """The live generation folder, or None before the first index is made."""
        name = self.current_name()
        return self.root / name if name and (self.root / name).exists() else None

    def create(self) -> Path:
        """An empty folder for a new generation (not live until ``publish``)."""
        path = self.root / f"g-{time.time_ns()}-{os.getpid()}"
        path.mkdir(parents=True)
        return path

    def publish(self, path: Path) -> None:
        """Make ``path`` the live generation and remove the one it replaces."""
        old = self.current_name()
        pointer = self.root / f".CURRENT.{os.getpid()}.tmp"
        pointer.write_text(path.name + "\n")
        os.replace(pointer, self.root / "CURRENT")
        if old and old != path.name:
            shutil.rmtree(self.root / old, ignore_errors=True)

    def discard(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    @contextmanager
    def building(self) -> Iterator[Path]:
        """A new generation to fill: published when the block ends, discarded if it fails."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.create()
        try:
            yield path
        except BaseException:
            self.discard(path)
            raise
        self.publish(path)
