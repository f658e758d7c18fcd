"""Finished chunks of a transcription, kept on disk so that a killed run resumes where it stopped.

A one-hour episode takes about fifteen minutes to transcribe on two cores; a worker killed at
minute fourteen should not start again from zero. Each finished chunk is written to its own file
(temporary name, fsync, rename), in a folder named after the audio's sha256 and everything that
changes the words (model, decoding settings, glossary, chunk plan). A later run with the same
inputs reads the chunks already there and carries on; any other run gets a folder of its own.
Folders are removed once the episode is stored, and forgotten ones after ``STALE_DAYS``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from archive.records import Word

STALE_DAYS = 14


class Checkpoints:
    def __init__(self, work_dir: Path, audio_sha256: str, fingerprint: dict) -> None:
        digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()).hexdigest()
        self.folder = work_dir / f"{audio_sha256[:24]}-{digest[:16]}"
        self.resumed = 0
        """Chunks read back rather than transcribed, in the last run."""
        self.total = 0

    def finished(self) -> list[list[Word]]:
        """The words of chunks 0, 1, 2… already done, stopping at the first one missing or unreadable."""
        chunks: list[list[Word]] = []
        while True:
            path = self._path(len(chunks))
            try:
                rows = json.loads(path.read_text(encoding="utf-8"))["words"]
                chunks.append([Word(str(text), float(start), float(end), float(p)) for text, start, end, p in rows])
            except (OSError, ValueError, KeyError, TypeError):
                return chunks

    def save(self, index: int, words: list[Word]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(index)
        temporary = path.with_suffix(".tmp")
        payload = {"words": [[w.text, round(w.start, 3), round(w.end, 3), round(w.probability, 4)] for w in words]}
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _path(self, index: int) -> Path:
        return self.folder / f"morceau-{index:04d}.json"


def remove_stale(work_dir: Path, now: float | None = None) -> None:
    """Drop the folders of transcriptions abandoned long ago (an upload deleted, a job given up)."""
    if not work_dir.is_dir():
        return
    limit = (now or time.time()) - STALE_DAYS * 86_400
    for folder in work_dir.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
