"""What a store write touches outside the database, noted before it is touched.

The search index and the media folder cannot join the SQL transaction. A write notes
the episodes it re-indexes and the media files it creates in an entry file, fsynced,
before touching them, and removes the entry once the transaction is committed or undone.
An entry left behind by a process that died (``kill -9``, power cut) tells the next
process that opens the archive exactly what to put back in step with the store.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HOST = socket.gethostname()


def _process_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) of process ``pid``, or None when /proc does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[0], fields[19]


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started, so a reused pid is not taken for the dead one."""
    stat = _process_stat(pid)
    return stat[1] if stat else None


def process_token(pid: int | None = None) -> str:
    pid = pid or os.getpid()
    return f"{pid}.{_start_time(pid) or 0}"


def process_alive(token: str) -> bool:
    """Whether the process named by ``token`` (see ``process_token``) still runs on this machine."""
    pid_text, _, started = token.partition(".")
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    stat = _process_stat(pid)
    if stat is None:
        return True
    state, current = stat
    # A killed process whose parent died too may linger as a zombie when nothing reaps it.
    return state not in ("Z", "X") and (started in ("", "0") or current == started)


@dataclass
class JournalEntry:
    """One write in progress: the episodes whose index documents it rewrites, the media files it creates."""

    path: Path
    episode_ids: set[int] = field(default_factory=set)
    media: set[str] = field(default_factory=set)

    def note(self, episode_ids: tuple[int, ...] = (), media: tuple[Path, ...] = ()) -> None:
        """Record on disk what is about to be touched; call it before touching it."""
        before = (len(self.episode_ids), len(self.media))
        self.episode_ids.update(episode_ids)
        self.media.update(str(path) for path in media)
        if (len(self.episode_ids), len(self.media)) == before and self.path.exists():
            return
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w") as out:
            json.dump({"episodes": sorted(self.episode_ids), "media": sorted(self.media)}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)


class WriteJournal:
    """The folder of entries: ``<host>-<pid>.<start time>-<random>.json``, one per write in progress."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextlib.contextmanager
    def entry(self) -> Iterator[JournalEntry]:
        """An entry for one write; it is removed when the block ends, unless the caller keeps it (``keep``)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = JournalEntry(self.folder / f"{HOST}-{process_token()}-{uuid.uuid4().hex}.json")
        yield entry
        entry.path.unlink(missing_ok=True)

    def interrupted(self) -> list[JournalEntry]:
        """Entries whose process on this machine is gone: their writes never finished.

        Entries of another machine sharing the data folder are left to it (or to ``parole verify``).
        """
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            host, _, token = path.stem.rpartition("-")[0].rpartition("-")
            if host != HOST or process_alive(token):
                continue
            try:
                recorded = json.loads(path.read_text())
            except (OSError, ValueError):
                recorded = {}  # cut short while being written: nothing was touched after it
            found.append(JournalEntry(path, set(recorded.get("episodes", ())), set(recorded.get("media", ()))))
        return found
