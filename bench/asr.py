"""Speech recognition: word error rate, speed and memory of faster-whisper configurations.

Audio sets: the FLEURS French clips (../shared/testdata/fleurs-fr, human transcripts) joined
with 1 s of silence as the quality test does, the same clips one by one, and the synthesized
3-voice interview (its script is the reference). Each configuration (bench/asr_configs.py)
runs on each set in its own process, so peak memory (ru_maxrss) is its own and the model load
is timed apart from transcription. WER uses the tests' normalisation (ingest.evaluation);
"boucles" counts runs of the same 3+ word sequence repeated 3+ times in a row. The peer is
bare faster-whisper with its own defaults (language fr only), measured in the same run.

    python bench/asr.py [--configs NAME,...] [--quick] [--model-dir DIR]

Target for Parole's default: WER <= 0.28 on the joined FLEURS clips with RTF <= 0.25.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.asr_configs import BY_NAME, CONFIGS, PEER, QUICK, AsrConfig  # noqa: E402
from ingest.evaluation import normalise, repeated_loops, word_error_rate  # noqa: E402

FLEURS = REPO.parent / "shared" / "testdata" / "fleurs-fr"
TARGET_WER, TARGET_RTF = 0.28, 0.25
JOINED = "clips FLEURS joints"


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    reference: str


@dataclass(frozen=True)
class AudioSet:
    name: str
    clips: list[Clip]


@dataclass(frozen=True)
class Transcribed:
    clip: str
    duration: float
    seconds: float
    text: str


@dataclass(frozen=True)
class Run:
    """One configuration on one audio set, as measured in its child process."""

    load_seconds: float
    compute_type: str
    items: list[Transcribed]
    peak_mib: float

    @property
    def rtf(self) -> float:
        return sum(item.seconds for item in self.items) / sum(item.duration for item in self.items)


def corpus_wer(items: list[Transcribed], references: dict[str, str]) -> float:
    """WER over several clips: each clip's errors weighted by its reference length, as one long text would be."""
    lengths = {item.clip: len(normalise(references[item.clip]).split()) for item in items}
    errors = sum(word_error_rate(references[item.clip], item.text) * lengths[item.clip] for item in items)
    return errors / sum(lengths.values())


# ---------------------------------------------------------------- child process: one configuration, one set


def _transcribe_with(config: AsrConfig, model, settings, audio) -> str:
    import ctranslate2

    if config.calls_parole:
        from ingest.transcribe import transcribe

        return "".join(word.text for word in transcribe(audio, settings, hotwords=config.hotwords))
    # Parole fixes the seed of the temperature fallback; every configuration gets the same one.
    ctranslate2.set_random_seed(settings.random_seed)
    options = json.loads(json.dumps(config.options))  # the batched pipeline edits vad_parameters in place
    if config.batch_size:
        from faster_whisper import BatchedInferencePipeline

        if config.on_pieces:
            from ingest.speech_map import plan_pieces, speech_spans

            pieces = plan_pieces(speech_spans(audio.samples))
            options.update(vad_filter=False, clip_timestamps=[{"start": p.start, "end": p.end} for p in pieces])
        segments, _ = BatchedInferencePipeline(model).transcribe(audio.samples, batch_size=config.batch_size,
                                                                 **options)
    else:
        segments, _ = model.transcribe(audio.samples, **options)
    return " ".join(segment.text.strip() for segment in segments)


def child(config_name: str, clip_paths: list[str], model_dir: str) -> None:
    """Load the model, transcribe each clip, print JSON (the parent reads peak memory itself)."""
    from archive.settings import Settings
    from ingest.audio import load_audio

    config = BY_NAME[config_name]
    settings = Settings(model_dir=Path(model_dir), **config.settings_changes)
    audios = [load_audio(Path(path)) for path in clip_paths]
    started = time.perf_counter()
    if config.calls_parole:
        from ingest.models import load_whisper

        model = load_whisper(settings)
    else:
        from faster_whisper import WhisperModel

        model = WhisperModel(model_dir, **config.model_options)
    load_seconds = time.perf_counter() - started
    items = []
    for path, audio in zip(clip_paths, audios, strict=True):
        started = time.perf_counter()
        text = _transcribe_with(config, model, settings, audio)
        items.append({"clip": Path(path).stem, "duration": audio.duration,
                      "seconds": time.perf_counter() - started, "text": text})
    print(json.dumps({"load_seconds": load_seconds, "compute_type": model.model.compute_type, "items": items}))


# ---------------------------------------------------------------- parent: audio, runs, tables


def audio_sets(folder: Path, quick: bool) -> list[AudioSet]:
    """The FLEURS sets (when the clips are on this machine) and the synthesized interview."""
    from ingest.synth import INTERVIEW, synthesize

    sets = []
    clips = [Clip(path.stem, path, path.with_suffix(".txt").read_text(encoding="utf-8").strip())
             for path in sorted(FLEURS.glob("fleurs-fr-*.ogg"))] if FLEURS.is_dir() else []
    if clips and quick:
        return [AudioSet("un clip FLEURS", clips[:1])]
    if clips:
        sets.append(AudioSet(JOINED, [Clip("fleurs-joints", _joined_wav(clips, folder / "fleurs-joints.wav"),
                                           " ".join(clip.reference for clip in clips))]))
        sets.append(AudioSet("clips FLEURS un par un", clips))
    else:
        print(f"{FLEURS} absent : clips FLEURS non mesurés", file=sys.stderr)
    interview = synthesize(INTERVIEW).write_wav(folder / "entretien.wav")
    sets.append(AudioSet("entretien synthétisé", [Clip("entretien", interview,
                                                       " ".join(turn.text for turn in INTERVIEW))]))
    return sets


def _joined_wav(clips: list[Clip], path: Path) -> Path:
    """The clips end to end with 1 s of silence after each, written as tests/test_transcription_quality does."""
    import wave

    from faster_whisper.audio import decode_audio

    silence = np.zeros(16_000, dtype=np.float32)
    pieces = [piece for clip in clips for piece in (decode_audio(str(clip.path), sampling_rate=16_000), silence)]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes((np.clip(np.concatenate(pieces), -1, 1) * 32767).astype("<i2").tobytes())
    return path


def measure(config: AsrConfig, audio_set: AudioSet, model_dir: Path) -> Run | str:
    """Run one configuration on one set in a fresh process; the error text if it failed."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", config.name, "--model-dir", str(model_dir),
               *[str(clip.path) for clip in audio_set.clips]]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        errors.seek(0)
        error_lines = errors.read().decode(errors="replace").strip().splitlines()
    if status != 0:
        return error_lines[-1] if error_lines else f"code de sortie {os.waitstatus_to_exitcode(status)}"
    told = json.loads(output)
    return Run(told["load_seconds"], told["compute_type"], [Transcribed(**item) for item in told["items"]],
               usage.ru_maxrss / 1024)


def _ratio(value: float, peer: float | None) -> str:
    return f"{value / peer:.2f}" if peer else "–"


def print_table(audio_set: AudioSet, runs: dict[str, Run | str]) -> list[str]:
    """One table for one audio set; returns the configurations that meet the target (joined clips only)."""
    references = {clip.name: clip.reference for clip in audio_set.clips}
    duration = next((sum(item.duration for item in run.items) for run in runs.values() if isinstance(run, Run)), 0.0)
    peer = runs.get(PEER)
    peer_wer = corpus_wer(peer.items, references) if isinstance(peer, Run) else None
    peer_rtf = peer.rtf if isinstance(peer, Run) else None
    on_target = []
    print(f"\n== {audio_set.name} : {len(audio_set.clips)} fichier(s), {duration:.1f} s d'audio ==")
    print(f"{'configuration':24} {'WER':>6} {'RTF':>6} {'Mio max':>8} {'boucles':>8} {'charg. s':>9} "
          f"{'WER/pair':>9} {'RTF/pair':>9} {'calcul':>13}" + ("  cible" if audio_set.name == JOINED else ""))
    for name, run in runs.items():
        if not isinstance(run, Run):
            print(f"{name:24} échec : {run}")
            continue
        wer = corpus_wer(run.items, references)
        loops = sum(repeated_loops(item.text) for item in run.items)
        meets = wer <= TARGET_WER and run.rtf <= TARGET_RTF
        if meets and audio_set.name == JOINED:
            on_target.append(name)
        mark = ("  oui" if meets else "  non") if audio_set.name == JOINED else ""
        print(f"{name:24} {wer:6.3f} {run.rtf:6.3f} {run.peak_mib:8.0f} {loops:8d} {run.load_seconds:9.1f} "
              f"{_ratio(wer, peer_wer):>9} {_ratio(run.rtf, peer_rtf):>9} {run.compute_type:>13}{mark}")
    return on_target


def print_clip_table(audio_set: AudioSet, runs: dict[str, Run | str]) -> None:
    """WER of each clip, one column per clip, so a single bad clip is visible."""
    references = {clip.name: clip.reference for clip in audio_set.clips}
    print(f"\nWER par clip ({audio_set.name}) :")
    print(f"{'configuration':24} " + " ".join(f"{clip.name.rsplit('-', 1)[-1]:>5}" for clip in audio_set.clips))
    for name, run in runs.items():
        if isinstance(run, Run):
            print(f"{name:24} " + " ".join(f"{word_error_rate(references[item.clip], item.text):5.2f}"
                                           for item in run.items))


def fail(message: str) -> NoReturn:
    """A mistake in the command line: one French line, exit code 2, as the ``parole`` command does."""
    print(message, file=sys.stderr)
    raise SystemExit(2)


def chosen_configs(args: argparse.Namespace) -> list[AsrConfig]:
    if not args.configs:
        return [BY_NAME[name] for name in QUICK] if args.quick else CONFIGS
    names = [name.strip() for name in args.configs.split(",") if name.strip()]
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        known = " ; ".join(config.name for config in CONFIGS)
        fail(f"Configuration inconnue : {', '.join(unknown)} (connues : {known})")
    return [BY_NAME[name] for name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", help="noms séparés par des virgules (voir bench/asr_configs.py)")
    parser.add_argument("--quick", action="store_true", help="un clip, deux configurations")
    parser.add_argument("--model-dir", type=Path, help="dossier d'un modèle faster-whisper (défaut : Whisper base)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("clips", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.clips, str(args.model_dir))
        return
    if args.clips:
        fail(f"Argument inattendu : {args.clips[0]} (les fichiers audio sont choisis par le banc d'essai)")
    configs = chosen_configs(args)
    if args.model_dir is not None and not (args.model_dir / "model.bin").is_file():
        fail(f"Dossier de modèle invalide : {args.model_dir} ne contient pas de model.bin.")

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        if args.model_dir is None:
            from ingest.models import ModelError, assemble_base_model

            try:
                args.model_dir = assemble_base_model(folder / "models")
            except ModelError as error:
                fail(str(error))
        sets = audio_sets(folder, args.quick)
        started = time.perf_counter()
        load = os.getloadavg()[0]
        print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC ; machine : {os.cpu_count()} cœurs, charge au départ "
              f"{load:.2f} ; modèle : {args.model_dir.name}")
        for config in configs:
            print(f"  {config.name} : {config.summary}")
        results: dict[str, dict[str, Run | str]] = {audio_set.name: {} for audio_set in sets}
        for audio_set in sets:
            for config in configs:
                begun = time.perf_counter()
                results[audio_set.name][config.name] = measure(config, audio_set, args.model_dir)
                print(f"  … {audio_set.name} / {config.name} : {time.perf_counter() - begun:.0f} s", file=sys.stderr)

    on_target: list[str] = []
    for audio_set in sets:
        on_target += print_table(audio_set, results[audio_set.name])
    for audio_set in sets:
        if len(audio_set.clips) > 1:
            print_clip_table(audio_set, results[audio_set.name])
    print(f"\nRTF = temps de transcription / durée de l'audio (chargement du modèle à part) ; "
          f"« boucles » = même suite de 3 mots ou plus répétée 3 fois de suite ou plus ; durée totale "
          f"{time.perf_counter() - started:.0f} s.")
    if any(audio_set.name == JOINED for audio_set in sets):
        print(f"Cible (WER <= {TARGET_WER} et RTF <= {TARGET_RTF} sur les clips joints) atteinte par : "
              + (", ".join(on_target) if on_target else "aucune configuration"))


if __name__ == "__main__":
    main()
