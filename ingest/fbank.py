"""Kaldi-style log-mel filterbank features in numpy, as the CAM++ speaker model expects.

Same recipe as Kaldi's ``compute-fbank-feats`` (and torchaudio's ``kaldi.fbank``) with
the options speaker models use: 25 ms frames every 10 ms, DC offset removed,
pre-emphasis 0.97, Povey window, 512-point FFT power spectrum, 80 triangular mel bands
(20 Hz to Nyquist, built on Kaldi's mel scale), natural log floored at float32 epsilon,
no dither. Each utterance's features are then centred (mean over time subtracted).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
FRAME_LENGTH = 400  # 25 ms
FRAME_SHIFT = 160  # 10 ms
FFT_SIZE = 512
MEL_BINS = 80
LOW_FREQ = 20.0
PREEMPHASIS = 0.97
_EPSILON = np.finfo(np.float32).eps


def _mel(frequency: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log(1.0 + np.asarray(frequency, dtype=np.float64) / 700.0)


@lru_cache(maxsize=4)
def mel_banks(mel_bins: int = MEL_BINS, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Triangular filters (mel_bins × FFT_SIZE/2+1), weights computed on the mel scale like Kaldi."""
    fft_bins = FFT_SIZE // 2
    low, high = _mel(LOW_FREQ), _mel(sample_rate / 2)
    delta = (high - low) / (mel_bins + 1)
    left = low + np.arange(mel_bins)[:, None] * delta
    centre, right = left + delta, left + 2 * delta
    bin_mel = _mel(np.arange(fft_bins) * sample_rate / FFT_SIZE)[None, :]
    up = (bin_mel - left) / (centre - left)
    down = (right - bin_mel) / (right - centre)
    weights = np.maximum(0.0, np.minimum(up, down))
    # Kaldi has no weight for the Nyquist bin; keep the column so shapes match the FFT.
    return np.pad(weights, ((0, 0), (0, 1))).astype(np.float32)


@lru_cache(maxsize=1)
def _povey_window() -> np.ndarray:
    n = np.arange(FRAME_LENGTH)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME_LENGTH - 1))) ** 0.85


BLOCK_FRAMES = 6_000
"""Frames computed at a time (one minute): a whole hour at once would hold several GB of float64 buffers."""


def fbank(waveform: np.ndarray, normalise: bool = True) -> np.ndarray:
    """Frames × 80 log-mel features of a 16 kHz mono waveform (floats in [-1, 1])."""
    if len(waveform) < FRAME_LENGTH:
        return np.zeros((0, MEL_BINS), dtype=np.float32)
    count = 1 + (len(waveform) - FRAME_LENGTH) // FRAME_SHIFT
    features = np.empty((count, MEL_BINS), dtype=np.float32)
    for first in range(0, count, BLOCK_FRAMES):
        last = min(count, first + BLOCK_FRAMES)
        block = np.asarray(waveform[first * FRAME_SHIFT:(last - 1) * FRAME_SHIFT + FRAME_LENGTH], dtype=np.float64)
        features[first:last] = _log_mel(block, last - first)
    if normalise:
        features -= features.mean(axis=0, keepdims=True)
    return features


def _log_mel(samples: np.ndarray, count: int) -> np.ndarray:
    """Log-mel features of the ``count`` frames that ``samples`` holds exactly."""
    frames = np.lib.stride_tricks.sliding_window_view(samples, FRAME_LENGTH)[::FRAME_SHIFT][:count].copy()
    frames -= frames.mean(axis=1, keepdims=True)
    frames[:, 1:] -= PREEMPHASIS * frames[:, :-1].copy()
    frames[:, 0] -= PREEMPHASIS * frames[:, 0]
    frames *= _povey_window()
    power = np.abs(np.fft.rfft(frames, n=FFT_SIZE)) ** 2
    return np.log(np.maximum(power @ mel_banks().T.astype(np.float64), _EPSILON)).astype(np.float32)
