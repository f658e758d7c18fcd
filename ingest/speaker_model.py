"""CAM++ speaker embeddings with onnxruntime (no torch at run time).

The ONNX file ships in this package (``ingest/data/campplus.onnx``; source and
licence in ``ingest/data/NOTICE``). Input: centred log-mel features (batch, frames, 80);
output: one 192-dimension voice embedding per item.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).parent / "data" / "campplus.onnx"
_session = None
_lock = threading.Lock()


class SpeakerModelError(Exception):
    pass


def _load():
    global _session
    with _lock:
        if _session is None:
            import onnxruntime

            if not MODEL_PATH.exists():
                raise SpeakerModelError(f"Modèle de locuteurs introuvable : {MODEL_PATH} (réinstallez Parole).")
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            _session = onnxruntime.InferenceSession(str(MODEL_PATH), options, providers=["CPUExecutionProvider"])
        return _session


def embed(windows: list[np.ndarray], batch_size: int = 32) -> np.ndarray:
    """L2-normalised embeddings (n × 192) for feature windows; same-length windows run batched."""
    if not windows:
        return np.zeros((0, 192), dtype=np.float32)
    session = _load()
    output = np.zeros((len(windows), 192), dtype=np.float32)
    by_length: dict[int, list[int]] = {}
    for position, window in enumerate(windows):
        by_length.setdefault(len(window), []).append(position)
    for positions in by_length.values():
        for start in range(0, len(positions), batch_size):
            chunk = positions[start:start + batch_size]
            batch = np.stack([windows[i] for i in chunk]).astype(np.float32)
            output[chunk] = session.run(["embedding"], {"features": batch})[0]
    norms = np.linalg.norm(output, axis=1, keepdims=True)
    return output / np.maximum(norms, 1e-12)
