"""How much the ingest pipeline adds to bare faster-whisper transcription.

For the same audio, in one run, alternating: (a) a bare faster-whisper script with the
same model and decoding options, (b) the full ``parole ingest`` command (decode, checks,
transcription, utterances, SQL transaction, media copy, indexing). Each runs in its own
process so that wall time and peak memory (ru_maxrss) are measured alike.

    python bench/ingest.py [--repeat 2] [--audio FILE]

Target: the pipeline adds under 15 % to the bare transcription time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archive.settings import Settings  # noqa: E402
from ingest.models import assemble_base_model  # noqa: E402

# The bare script reads the audio as one stream after faster-whisper's own VAD; Parole reads
# pieces cut at pauses (ingest.speech_map), so the difference also holds that choice.
VAD_PARAMETERS = {"min_silence_duration_ms": 500, "speech_pad_ms": 300}

BARE = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type=sys.argv[3], local_files_only=True)
segments, _ = model.transcribe(sys.argv[2], language="fr", beam_size=int(sys.argv[4]), word_timestamps=True,
                               vad_filter=True, vad_parameters=eval(sys.argv[5]), condition_on_previous_text=False)
print(sum(len(s.words) for s in segments))
"""


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak resident memory (MiB) and standard error of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"échec de {command[:3]} : {errors}")
    return elapsed, usage.ru_maxrss / 1024, errors


def stage_times(errors: str) -> dict[str, float]:
    """The "Durées : …" line that ``parole ingest`` prints, as {stage: seconds}."""
    line = next((line for line in errors.splitlines() if line.startswith("Durées :")), "")
    found = re.findall(r"(\w[\w ]*?) ([0-9]+,[0-9]) s", line.removeprefix("Durées :"))
    return {name.strip(): float(value.replace(",", ".")) for name, value in found}


def default_audio(folder: Path) -> tuple[Path, str]:
    fleurs = REPO.parent / "shared" / "testdata" / "fleurs-fr"
    if fleurs.is_dir():
        import wave

        from faster_whisper.audio import decode_audio

        silence = np.zeros(16_000, dtype=np.float32)
        pieces = [piece for clip in sorted(fleurs.glob("*.ogg"))
                  for piece in (decode_audio(str(clip), sampling_rate=16_000), silence)]
        path = folder / "fleurs.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16_000)
            out.writeframes((np.concatenate(pieces) * 32767).astype("<i2").tobytes())
        return path, "clips FLEURS fr joints"
    from ingest.synth import INTERVIEW, synthesize

    return synthesize(INTERVIEW).write_wav(folder / "entretien.wav"), "entretien synthétisé"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--audio", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        audio, label = (args.audio, args.audio.name) if args.audio else default_audio(folder)
        settings = Settings(data_dir=folder / "cache")
        model = assemble_base_model(settings.model_cache_dir)
        duration = len(__import__("faster_whisper.audio", fromlist=["decode_audio"]).decode_audio(str(audio))) / 16_000
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        bare_times, bare_rss, full_times, full_rss, stages = [], [], [], [], []
        for attempt in range(args.repeat):
            seconds, rss, _ = measure([sys.executable, "-c", BARE, str(model), str(audio), settings.compute_type,
                                       str(settings.beam_size), repr(VAD_PARAMETERS)], env)
            bare_times.append(seconds)
            bare_rss.append(rss)
            data = folder / f"data-{attempt}"
            data.mkdir()
            (data / "models").symlink_to(settings.model_cache_dir.resolve(), target_is_directory=True)
            seconds, rss, errors = measure(
                [sys.executable, "-m", "parole", "ingest", str(audio), "--title", "Banc d'essai"],
                {**env, "PAROLE_DATA_DIR": str(data)})
            full_times.append(seconds)
            full_rss.append(rss)
            stages.append(stage_times(errors))

    bare, full = statistics.median(bare_times), statistics.median(full_times)
    print(f"Audio : {label}, {duration:.1f} s ; {args.repeat} passages chacun, médiane ; "
          f"machine : {os.cpu_count()} cœurs")
    print(f"{'':34} {'temps (s)':>10} {'RTF':>7} {'mémoire max (Mio)':>18}")
    print(f"{'faster-whisper seul':34} {bare:10.2f} {bare / duration:7.3f} {max(bare_rss):18.0f}")
    print(f"{'parole ingest (pipeline complet)':34} {full:10.2f} {full / duration:7.3f} {max(full_rss):18.0f}")
    names = list(stages[0])
    median_stage = {name: statistics.median(run.get(name, 0.0) for run in stages) for name in names}
    print("Étapes du pipeline (médiane) : " + " ; ".join(f"{n} {v:.1f} s" for n, v in median_stage.items()))
    speakers = median_stage.get("locuteurs", 0.0)
    print(f"Rapport pipeline complet / faster-whisper : {full / bare:.3f} (surcoût {full / bare - 1:+.1%}, "
          f"dont reconnaissance des locuteurs {speakers:.1f} s)")
    plumbing = (full - speakers) / bare
    print(f"Rapport hors étape « locuteurs » : {plumbing:.3f} (surcoût {plumbing - 1:+.1%} ; objectif < +15 %)")


if __name__ == "__main__":
    main()
