"""A one-hour episode: peak memory of ``parole ingest``, and a run killed mid-way that resumes.

A synthesized episode of ``--minutes`` minutes (the test interviews spoken again and again by
espeak-ng) is ingested with ``parole ingest`` in a child process. The first run is killed with
SIGKILL once ``--kill-after`` transcription chunks are on disk; the second run must say it
resumed after that chunk, and finish. Each run's peak memory (VmHWM) is measured, and so is the
peer: bare faster-whisper (same model, int8, its own VAD) transcribing the same file in one call,
in the same run.

    python bench/long_episode.py [--minutes 60] [--kill-after 3] [--no-peer]

Target: peak memory under 1.5 GB for the 60-minute episode.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_PEAK_GIB = 1.5
CHUNK_FILE = re.compile(r"morceau-(\d{4})\.json$")
PEER_SCRIPT = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", local_files_only=True)
segments, _ = model.transcribe(sys.argv[2], language="fr", vad_filter=True)
print(sum(len(segment.text.split()) for segment in segments))
"""


@dataclass
class Measured:
    name: str
    seconds: float
    peak_mib: float
    outcome: str
    audio: float = 0.0


def long_script(minutes: float, gap: float):
    """The test interviews, over and over, until the episode lasts ``minutes``."""
    from ingest.synth import INTERVIEW, SECOND_INTERVIEW, THREE_TOPICS, synthesize

    cycle = INTERVIEW + SECOND_INTERVIEW + THREE_TOPICS
    per_turn = synthesize(cycle, gap=gap).duration / len(cycle)
    return [cycle[i % len(cycle)] for i in range(int(minutes * 60 / per_turn) + 1)]


def excerpt(wav: Path, minutes: float, path: Path) -> Path:
    """The first ``minutes`` of a wav file."""
    import wave

    with wave.open(str(wav), "rb") as source, wave.open(str(path), "wb") as out:
        out.setparams(source.getparams())
        out.writeframes(source.readframes(int(minutes * 60 * source.getframerate())))
    return path


def peak_mib(pid: int) -> float:
    """The process's high-water resident memory so far."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_until(command: list[str], env: dict, stop_when=None) -> tuple[Measured, str]:
    """Run ``command``; kill it (SIGKILL, whole group) as soon as ``stop_when()`` is true."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True, text=True)
    peak = 0.0
    killed = False
    while process.poll() is None:
        peak = max(peak, peak_mib(process.pid))
        if stop_when and stop_when():
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.5)
    output = process.communicate()[0]
    seconds = time.perf_counter() - started
    outcome = "tué (SIGKILL)" if killed else f"code {process.returncode}"
    return Measured("", seconds, peak, outcome), output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--kill-after", type=int, default=3, help="chunks finished before the first run is killed")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--peer-minutes", type=float, default=10.0,
                        help="the peer reads this much of the episode (it is much slower on synthesized speech)")
    args = parser.parse_args()

    from archive.settings import Settings
    from ingest.models import model_info
    from ingest.synth import synthesize

    folder = Path(tempfile.mkdtemp(prefix="parole-long-"))
    data = folder / "data"
    settings = Settings(data_dir=data)
    started = time.perf_counter()
    wav = synthesize(long_script(args.minutes, gap=0.6), gap=0.6).write_wav(folder / "episode.wav")
    from ingest.audio import load_audio

    duration = load_audio(wav).duration
    print(f"Épisode synthétisé : {duration / 60:.1f} min en {time.perf_counter() - started:.0f} s ({wav})")
    env = {**os.environ, "PAROLE_DATA_DIR": str(data)}
    command = [sys.executable, "-m", "parole", "ingest", str(wav), "--title", "Un épisode d'une heure"]
    work = settings.transcription_work_dir

    def chunks_done() -> int:
        return sum(1 for path in work.rglob("morceau-*.json")) if work.is_dir() else 0

    results = []
    first, _ = run_until(command, env, stop_when=lambda: chunks_done() >= args.kill_after)
    first.name = f"parole ingest, tué après {args.kill_after} morceaux"
    results.append(first)
    kept = chunks_done()
    second, output = run_until(command, env)
    second.name = "parole ingest, relancé"
    results.append(second)
    output = " ".join(output.split())  # the console wraps long lines
    resumed = re.search(r"reprise après le morceau (\d+) sur (\d+)", output)
    saved = "Épisode enregistré" in output
    if not args.no_peer:
        part = excerpt(wav, min(args.peer_minutes, args.minutes), folder / "debut.wav")
        peer, _ = run_until([sys.executable, "-c", PEER_SCRIPT, str(model_info(settings).path), str(part)], env)
        peer.name = f"faster-whisper seul (témoin, VAD, int8), {min(args.peer_minutes, args.minutes):.0f} premières min"
        peer.audio = min(args.peer_minutes * 60, duration)
        results.append(peer)

    print()
    print(f"| exécution | durée | facteur temps réel | mémoire max | issue |  ({duration / 60:.1f} min d'audio)")
    print("|---|---|---|---|---|")
    for item in results:
        rtf = "—" if item is first else f"{item.seconds / (item.audio or duration):.3f}"
        print(f"| {item.name} | {item.seconds:.0f} s | {rtf} | {item.peak_mib:.0f} Mio | {item.outcome} |")
    print()
    print(f"Morceaux sur disque après l'arrêt : {kept}")
    print(f"Reprise : {'après le morceau ' + resumed.group(1) + ' sur ' + resumed.group(2) if resumed else 'NON'} ; "
          f"épisode enregistré : {'oui' if saved else 'NON'}")
    peak = max(item.peak_mib for item in results[:2])
    print(f"Mémoire max de parole : {peak / 1024:.2f} Gio (objectif < {TARGET_PEAK_GIB} Gio) : "
          f"{'tenu' if peak / 1024 < TARGET_PEAK_GIB else 'NON TENU'}")
    if not args.no_peer:
        print(f"Rapport mémoire parole / témoin : {peak / results[2].peak_mib:.2f} ; rapport des facteurs temps "
              f"réel (relance / témoin) : {(second.seconds / duration) / (results[2].seconds / results[2].audio):.2f}")
    if not (resumed and saved):
        print(output[-3000:])
        sys.exit(1)


if __name__ == "__main__":
    main()
