"""Index generations: a rebuild is written beside the live index, then swapped in at once.

Layout: ``CURRENT`` names the live generation folder (``g-…``). Readers follow the pointer,
so they see the old index or the new one, never half of one. Both search engines use it.
A pointer that does not name a generation (a damaged file) counts as no index at all, so
the store rebuilds one instead of anything following a garbage path.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GENERATION_NAME = re.compile(r"g-\d+-\d+")
POINTER_TEMPORARY = re.compile(r"\.CURRENT\.\d+\.tmp")


class Generations:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def current_name(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text(errors="replace").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return name if GENERATION_NAME.fullmatch(name) else None

    def current(self) -> Path | None:
        """The live generation folder, or None before the first index is made."""
        name = self.current_name()
        return self.root / name if name and (self.root / name).is_dir() else None

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

    def leftovers(self, older_than: float) -> list[Path]:
        """Generations nobody reads and pointer files nobody renamed, untouched for ``older_than`` seconds.

        A process that died while rebuilding leaves them behind; younger ones may be a rebuild
        still in progress, so they are never listed.
        """
        if not self.root.is_dir():
            return []
        live, cutoff = self.current_name(), time.time() - older_than
        found = []
        for path in sorted(self.root.iterdir()):
            unused = ((GENERATION_NAME.fullmatch(path.name) and path.name != live)
                      or POINTER_TEMPORARY.fullmatch(path.name))
            if unused and _last_change(path) < cutoff:
                found.append(path)
        return found

    def remove(self, path: Path) -> None:
        """Delete one of ``leftovers()``."""
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _last_change(path: Path) -> float:
    """The newest modification time of a folder or anything directly in it (a rebuild writes files)."""
    try:
        times = [path.lstat().st_mtime]
        if path.is_dir() and not path.is_symlink():
            times += [child.lstat().st_mtime for child in path.iterdir()]
    except FileNotFoundError:  # being removed or renamed right now: in use, not left over
        return time.time()
    return max(times)
