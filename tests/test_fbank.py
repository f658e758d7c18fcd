"""Our numpy features and ONNX model reproduce the reference CAM++ pipeline (torch + C++ features)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.fbank import fbank
from ingest.speaker_model import embed

REFERENCE = Path(__file__).parent / "data" / "campplus_reference.npz"


def test_features_match_the_reference_extractor():
    reference = np.load(REFERENCE)
    ours = fbank(reference["waveform"])
    assert ours.shape == reference["features"].shape
    assert np.max(np.abs(ours - reference["features"])) < 2e-3


def test_embedding_matches_the_torch_model():
    reference = np.load(REFERENCE)
    (ours,) = embed([fbank(reference["waveform"])])
    expected = reference["embedding"] / np.linalg.norm(reference["embedding"])
    assert float(ours @ expected) > 0.99
