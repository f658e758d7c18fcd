"""Content-addressed media files: ``media/ab/abcdef….ext`` named by their sha256.

A file is written under a temporary name, flushed to disk, then renamed, so a crash
never leaves a half file under a real name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path


def file_sha256(path: Path) -> str:
    """The sha256 a media file is named by, read in 1 MB blocks (episodes can weigh a gigabyte)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def media_path(media_dir: Path, sha256: str, extension: str) -> Path:
    if len(sha256) != 64 or not all(ch in "0123456789abcdef" for ch in sha256):
        raise ValueError("empreinte sha256 invalide")
    if not extension.isalnum():
        raise ValueError("extension invalide")
    return media_dir / sha256[:2] / f"{sha256}.{extension}"


def store_media(media_dir: Path, source: Path, sha256: str, extension: str) -> tuple[Path, bool]:
    """Copy ``source`` into the media folder; returns the path and whether it was created."""
    target = media_path(media_dir, sha256, extension)
    if target.exists():
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with source.open("rb") as src, temporary.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(temporary, target)
        _sync_folder(target.parent)  # the new name itself survives a power cut
    finally:
        temporary.unlink(missing_ok=True)
    return target, True


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_leftovers(target: Path) -> None:
    """Temporary copies of ``target`` left by processes that died while writing it."""
    from archive.write_journal import process_alive

    if not target.parent.is_dir():
        return
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        pid = leftover.name[len(target.name) + 2:-len(".tmp")]
        if not process_alive(pid):
            leftover.unlink(missing_ok=True)


def remove_media(path: Path) -> None:
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()
