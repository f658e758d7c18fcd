"""Speaker diarization: error rate, speed and memory against an MFCC baseline.

Each method runs on each file in its own process (so peak memory is its own), and
the diarization error rate (missed speech + false alarm + speaker confusion, over total
reference speech; no collar, overlap scored) is computed with pyannote.metrics.

Files: the two real meeting excerpts in ../shared/testdata/diarization (when present)
and two synthesized French interviews with exact turn times. The run also prints the
cosine similarities between the voices of the two interviews, which is how the
voice-recognition threshold is calibrated (same voice across episodes vs other voices).

    python bench/diarize.py

Targets: DER <= 0.20 on the real files, <= 5 s of compute per audio minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

REAL = REPO.parent / "shared" / "testdata" / "diarization"
# Ward distance, per unit of feature dimension, where the baseline stops merging (the best of 0.5 to 6 on these files).
MFCC_THRESHOLD = 3.0


def mfcc_baseline(audio) -> list[tuple[str, float, float]]:
    """The classic approach: MFCC statistics per window, agglomerative clustering (Ward)."""
    from scipy.fft import dct
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.preprocessing import StandardScaler

    from ingest.diarize import FRAMES_PER_SECOND, _merge, _pieces, _windows, speech_regions
    from ingest.fbank import fbank

    regions = speech_regions(audio.samples)
    windows = _windows(regions)
    if len(windows) < 2:
        return [("0", s, e) for s, e in regions]
    mfcc = dct(fbank(audio.samples, normalise=False), type=2, norm="ortho", axis=1)[:, :20]
    stats = []
    for w in windows:
        piece = mfcc[int(w.start * FRAMES_PER_SECOND):int(w.end * FRAMES_PER_SECOND)]
        stats.append(np.concatenate([piece.mean(axis=0), piece.std(axis=0)]))
    features = StandardScaler().fit_transform(np.array(stats))
    threshold = MFCC_THRESHOLD * np.sqrt(features.shape[1])
    labels = AgglomerativeClustering(n_clusters=None, linkage="ward",
                                     distance_threshold=threshold).fit_predict(features)
    return [(t.speaker, t.start, t.end) for t in _merge(_pieces(windows, labels, regions))]


def worker(method: str, path: str) -> None:
    """Run one method on one file; print JSON with the turns, time and peak memory."""
    import resource

    from ingest.audio import load_audio
    from ingest.diarize import diarize
    from ingest.speaker_model import _load

    audio = load_audio(Path(path))
    if method == "parole":
        # Loading the VAD and speaker models is a one-off per worker process, not per audio minute.
        _load()
        from ingest.diarize import speech_regions

        speech_regions(np.zeros(16_000, dtype=np.float32))
    else:
        import sklearn.cluster  # noqa: F401 - the baseline's one-off import is not per audio minute
    started = time.perf_counter()
    if method == "parole":
        result = diarize(audio, [])
        turns = [(t.speaker, t.start, t.end) for t in result.turns]
        voices = {v.label: list(v.embedding) for v in result.voices}
    else:
        turns, voices = mfcc_baseline(audio), {}
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"turns": turns, "seconds": elapsed, "peak_mib": peak, "duration": audio.duration,
                      "voices": voices}))


def run_worker(method: str, path: Path) -> dict:
    output = subprocess.run([sys.executable, __file__, "--worker", method, str(path)], capture_output=True,
                            text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return json.loads(output.stdout.strip().splitlines()[-1])


def read_rttm(path: Path) -> list[tuple[str, float, float]]:
    turns = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.append((fields[7], start, start + duration))
    return turns


def der(reference: list[tuple[str, float, float]], hypothesis: list[tuple[str, float, float]]) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotation(turns):
        result = Annotation()
        for speaker, start, end in turns:
            result[Segment(start, end)] = speaker
        return result

    return DiarizationErrorRate(collar=0.0, skip_overlap=False)(annotation(reference), annotation(hypothesis))


def corpus(folder: Path) -> list[tuple[str, Path, list]]:
    from ingest.synth import INTERVIEW, SECOND_INTERVIEW, synthesize

    files = []
    if REAL.is_dir():
        for name in ("sample", "mixture"):
            files.append((f"AMI {name} (réel)", REAL / f"{name}.wav", read_rttm(REAL / f"{name}.rttm")))
    for label, script in (("entretien synthétisé 1", INTERVIEW), ("entretien synthétisé 2", SECOND_INTERVIEW)):
        speech = synthesize(script)
        path = speech.write_wav(folder / f"{label.replace(' ', '-')}.wav")
        files.append((label, path, [(t.voice, t.start, t.end) for t in speech.turns]))
    return files


def calibration(results: dict) -> None:
    """Cosine similarity of each voice of interview 2 to each voice of interview 1."""
    from ingest.synth import INTERVIEW, SECOND_INTERVIEW, synthesize

    def voice_names(label: str, script) -> dict[str, str]:
        truth = synthesize(script).turns
        names = {}
        for speaker, start, end in results[label]["turns"]:
            overlap: dict[str, float] = {}
            for t in truth:
                overlap[t.voice] = overlap.get(t.voice, 0) + max(0.0, min(end, t.end) - max(start, t.start))
            names.setdefault(speaker, {}).update({k: names.get(speaker, {}).get(k, 0) + v for k, v in overlap.items()})
        return {speaker: max(o, key=o.get) for speaker, o in names.items()}

    first, second = "entretien synthétisé 1", "entretien synthétisé 2"
    names1, names2 = voice_names(first, INTERVIEW), voice_names(second, SECOND_INTERVIEW)
    print("\nSimilarité cosinus des voix (entretien 2 → entretien 1) :")
    for label2, vector2 in results[second]["voices"].items():
        row = []
        for label1, vector1 in results[first]["voices"].items():
            similarity = float(np.dot(vector1, vector2) / np.linalg.norm(vector1) / np.linalg.norm(vector2))
            row.append(f"{names1.get(label1, label1)} {similarity:.3f}")
        print(f"  {names2.get(label2, label2):8} : " + " | ".join(row))


def real_voice_similarities() -> tuple[list[float], list[float]]:
    """Same speaker in the first and second half of each real file, versus different speakers."""
    from ingest.audio import load_audio
    from ingest.fbank import fbank
    from ingest.speaker_model import embed

    same, different = [], []
    for name in ("sample", "mixture"):
        audio = load_audio(REAL / f"{name}.wav")
        features = fbank(audio.samples, normalise=False)
        reference, half = read_rttm(REAL / f"{name}.rttm"), audio.duration / 2
        centres = {}
        for speaker in sorted({t[0] for t in reference}):
            for part, (low, high) in (("1", (0, half)), ("2", (half, audio.duration))):
                windows = []
                for who, start, end in reference:
                    position, end = max(start, low), min(end, high)
                    while who == speaker and position + 1.5 <= end:
                        piece = features[int(position * 100):int((position + 1.5) * 100)]
                        windows.append(piece - piece.mean(axis=0))
                        position += 0.75
                if windows:
                    mean = embed(windows).mean(axis=0)
                    centres[(speaker, part)] = mean / np.linalg.norm(mean)
        for (s1, p1), c1 in centres.items():
            for (s2, p2), c2 in centres.items():
                if s1 == s2 and p1 < p2:
                    same.append(float(c1 @ c2))
                elif s1 < s2:
                    different.append(float(c1 @ c2))
    return same, different


def main() -> None:
    from archive.voiceprints import RECOGNITION_THRESHOLD

    with tempfile.TemporaryDirectory() as folder:
        files = corpus(Path(folder))
        print(f"{'fichier':26} {'méthode':16} {'DER':>6} {'s / min audio':>14} {'mémoire max':>12} {'locuteurs':>10}")
        totals: dict[str, list[float]] = {"parole": [], "mfcc": []}
        results = {}
        for label, path, reference in files:
            for method in ("parole", "mfcc"):
                result = run_worker(method, path)
                error = der(reference, [tuple(t) for t in result["turns"]])
                per_minute = result["seconds"] / result["duration"] * 60
                found = len({t[0] for t in result["turns"]})
                truth = len({t[0] for t in reference})
                name = "CAM++ spectral" if method == "parole" else "MFCC + agglo."
                print(f"{label:26} {name:16} {error:6.3f} {per_minute:14.2f} {result['peak_mib']:10.0f} Mo"
                      f" {found:>5} / {truth}")
                totals[method].append(error)
                if method == "parole":
                    results[label] = result
        parole, mfcc = np.mean(totals["parole"]), np.mean(totals["mfcc"])
        print(f"\nDER moyen : CAM++ {parole:.3f}, MFCC {mfcc:.3f} ; rapport CAM++ / MFCC = {parole / mfcc:.2f}")
        calibration(results)
        if REAL.is_dir():
            same, different = real_voice_similarities()
            print(f"Fichiers réels : même voix (1re moitié / 2e moitié) {', '.join(f'{x:.3f}' for x in same)} ;"
                  f" voix différentes : max {max(different):.3f}, médiane {np.median(different):.3f}")
        print(f"Seuil de reconnaissance retenu : {RECOGNITION_THRESHOLD}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
