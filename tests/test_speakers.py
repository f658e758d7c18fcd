"""Who is speaking: turns found, voices named, voices recognised in the next episode."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from archive.catalogue import episode_by_slug
from archive.db import Database
from archive.models import Episode
from archive.settings import Settings
from ingest.audio import load_audio
from ingest.diarize import diarize
from ingest.synth import INTERVIEW, SECOND_INTERVIEW, Synthesis, Turn, synthesize
from tests.conftest import make_data_dir
from tests.helpers import run_parole, start_server, write_wav


def true_voice(synthesis: Synthesis, moment: float) -> str:
    """The voice speaking at a moment (the nearest turn, for words a little outside)."""
    return min(synthesis.turns, key=lambda t: 0 if t.start <= moment <= t.end else min(
        abs(moment - t.start), abs(moment - t.end))).voice


def label_of(voices_by_label: dict[str, dict[str, int]], voice: str) -> str:
    return max(voices_by_label, key=lambda label: voices_by_label[label].get(voice, 0))


def load(data_dir: Path, slug: str) -> Episode:
    database = Database(Settings(data_dir=data_dir))
    with database.session() as session:
        episode = episode_by_slug(session, slug)
        episode.speakers, episode.utterances  # noqa: B018 - load before the session closes
        for voice in episode.speakers:
            voice.person  # noqa: B018
    database.dispose()
    return episode


@dataclass
class TwoEpisodes:
    data: Path
    first: Synthesis
    second: Synthesis


@pytest.fixture(scope="module")
def two_episodes(tmp_path_factory, model_cache) -> TwoEpisodes:
    data = make_data_dir(tmp_path_factory, model_cache, "speakers")
    first, second = synthesize(INTERVIEW), synthesize(SECOND_INTERVIEW)
    for synthesis, title, date in ((first, "Premier entretien", "2026-01-10"), (second, "Second entretien",
                                                                                 "2026-02-10")):
        path = synthesis.write_wav(data.parent / f"{title}.wav")
        if title == "Second entretien":
            # Name the first episode's voices before the second arrives, as a producer would.
            _name_first_episode(data, first)
        result = run_parole(data, "ingest", str(path), "--title", title, "--date", date)
        assert result.returncode == 0, result.stderr
    return TwoEpisodes(data, first, second)


def _words_by_label(episode: Episode, synthesis: Synthesis) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for utterance in episode.utterances:
        for _text, start, end, _p in utterance.words:
            voice = true_voice(synthesis, (start + end) / 2)
            counts.setdefault(utterance.speaker, {}).setdefault(voice, 0)
            counts[utterance.speaker][voice] += 1
    return counts


def _name_first_episode(data: Path, synthesis: Synthesis) -> None:
    episode = load(data, "premier-entretien")
    counts = _words_by_label(episode, synthesis)
    for voice, name, role in (("host", "Camila Masetti", "experte en contenus digitaux"),
                              ("guest1", "Jo Spiegel", "maire de Kingersheim")):
        result = run_parole(data, "speakers", "premier-entretien", "--name", label_of(counts, voice), name,
                            "--role", role)
        assert result.returncode == 0, result.stderr


def test_three_voices_found_and_words_attributed(two_episodes):
    episode = load(two_episodes.data, "premier-entretien")
    assert len(episode.speakers) == 3
    counts = _words_by_label(episode, two_episodes.first)
    labels, voices = sorted(counts), ["host", "guest1", "guest2"]
    total = sum(sum(c.values()) for c in counts.values())
    best = max(sum(counts[label].get(voice, 0) for label, voice in zip(labels, mapping, strict=False))
               for mapping in itertools.permutations(voices))
    accuracy = best / total
    print(f"words attributed to the right speaker: {accuracy:.3f} ({best}/{total})")
    assert accuracy >= 0.90


def test_known_voice_is_recognised_in_the_next_episode_and_new_ones_are_not(two_episodes):
    episode = load(two_episodes.data, "second-entretien")
    counts = _words_by_label(episode, two_episodes.second)
    host_label = label_of(counts, "host")
    by_label = {voice.label: voice for voice in episode.speakers}
    host = by_label[host_label]
    assert host.person is not None and host.person.name == "Camila Masetti"
    assert host.auto_recognized
    for label, voice in by_label.items():
        if label != host_label:
            assert voice.person is None, (label, voice.similarity)
    listing = run_parole(two_episodes.data, "speakers", "second-entretien")
    assert "Camila Masetti (reconnu automatiquement, à confirmer)" in listing.stdout
    assert "Intervenant" in listing.stdout


def test_person_pages_and_person_filter_over_http(two_episodes):
    server = start_server(two_episodes.data)
    try:
        base = server.base_url
        directory = httpx.get(base + "/personnes")
        assert directory.status_code == 200
        assert 'href="/personnes/jo-spiegel"' in directory.text and "maire de Kingersheim" in directory.text

        page = httpx.get(base + "/personnes/jo-spiegel")
        assert page.status_code == 200
        moments = re.findall(r'href="/episodes/premier-entretien#t=([0-9.]+)"', page.text)
        guest1_starts = [t.start for t in two_episodes.first.turns if t.voice == "guest1"]
        assert moments and all(any(abs(float(m) - s) < 8 for s in guest1_starts) for m in moments)
        assert httpx.get(base + "/personnes/personne-inconnue").status_code == 404

        episode_page = httpx.get(base + "/episodes/premier-entretien").text
        assert "Jo Spiegel</a><span class=\"role\">, maire de Kingersheim</span>" in episode_page
        assert "Intervenant" in episode_page

        everyone = httpx.get(base + "/api/search", params={"q": "participation"}).json()
        assert everyone["passage_count"] >= 1
        host_only = httpx.get(base + "/recherche", params={"q": "participation", "personne": "camila-masetti"})
        assert host_only.status_code == 200 and "<mark" in host_only.text and "Camila Masetti" in host_only.text
        guest_only = httpx.get(base + "/api/search", params={"q": "participation", "personne": "jo-spiegel"})
        assert all(p["person_slug"] == "jo-spiegel" for e in guest_only.json()["episodes"] for p in e["passages"])
        assert guest_only.json()["passage_count"] < everyone["passage_count"]

        vtt = httpx.get(base + "/episodes/premier-entretien/transcript.vtt").text
        assert "<v Jo Spiegel>" in vtt and "<v Camila Masetti>" in vtt
        segments = httpx.get(base + "/episodes/premier-entretien/transcript.json").json()["segments"]
        assert {s["speaker"] for s in segments} >= {"Jo Spiegel", "Camila Masetti"}
    finally:
        server.stop()


def test_naming_unknown_label_or_episode_is_refused(two_episodes):
    before = load(two_episodes.data, "premier-entretien")
    result = run_parole(two_episodes.data, "speakers", "premier-entretien", "--name", "SPEAKER_9", "X")
    assert result.returncode == 2 and "Locuteur inconnu" in result.stderr and "SPEAKER_1" in result.stderr
    result = run_parole(two_episodes.data, "speakers", "episode-absent", "--name", "SPEAKER_1", "X")
    assert result.returncode == 2 and "Épisode inconnu" in result.stderr
    after = load(two_episodes.data, "premier-entretien")
    assert [(v.label, v.person_id) for v in after.speakers] == [(v.label, v.person_id) for v in before.speakers]


# -- audio of every shape ---------------------------------------------------------------


def _resampled(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    positions = np.linspace(0, len(samples) - 1, int(len(samples) * rate_out / rate_in))
    return np.interp(positions, np.arange(len(samples)), samples)


@pytest.fixture(scope="module")
def monologue() -> Synthesis:
    return synthesize([Turn("guest1", "Je travaille au service des sports de la ville depuis dix ans."),
                       Turn("guest1", "Nous préparons les équipements pour les écoles et les associations.")])


@pytest.mark.parametrize("shape", ["mono 16 kHz", "stéréo 44,1 kHz", "8 kHz", "48 kHz"])
def test_one_voice_in_any_format_is_one_speaker(monologue, tmp_path, shape):
    samples = monologue.samples.astype(np.float64) / 32768
    rate = {"mono 16 kHz": 16_000, "stéréo 44,1 kHz": 44_100, "8 kHz": 8_000, "48 kHz": 48_000}[shape]
    samples = _resampled(samples, monologue.sample_rate, rate)
    path = tmp_path / "voix.wav"
    if shape.startswith("stéréo"):
        import wave

        stereo = np.stack([samples, samples * 0.8], axis=1)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes((stereo * 32767).astype("<i2").tobytes())
    else:
        write_wav(path, samples, rate)
    result = diarize(load_audio(path), [])
    assert len(result.voices) == 1
    assert result.turns and all(t.speaker == "SPEAKER_1" for t in result.turns)


def test_silence_gives_no_turns_and_music_does_not_crash(tmp_path):
    silence = write_wav(tmp_path / "silence.wav", np.zeros(16_000 * 5))
    assert diarize(load_audio(silence), []).turns == []
    t = np.arange(16_000 * 8) / 16_000
    chords = sum(0.15 * np.sin(2 * np.pi * f * t) * (1 + np.sin(2 * np.pi * 0.5 * t)) / 2
                 for f in (220, 277.2, 329.6, 440))
    music = write_wav(tmp_path / "musique.wav", chords)
    result = diarize(load_audio(music), [])
    assert len(result.voices) <= 2


def test_silent_episode_is_stored_with_a_clear_notice(fresh_data, tmp_path):
    silence = write_wav(tmp_path / "silence.wav", 0.001 * np.random.default_rng(0).standard_normal(16_000 * 6))
    result = run_parole(fresh_data, "ingest", str(silence), "--title", "Silence")
    assert result.returncode == 0, result.stderr
    assert "Aucune parole détectée" in result.stderr
    assert "0 locuteur" in result.stderr
    database = Database(Settings(data_dir=fresh_data))
    with database.session() as session:
        assert session.scalar(select(Episode.title)) == "Silence"
    database.dispose()


def test_an_hour_of_windows_is_clustered_in_bounded_memory():
    """Past MAX_SPECTRAL_ITEMS windows an even sample is clustered; every window still finds its speaker."""
    from ingest.clustering import MAX_SPECTRAL_ITEMS, cluster_speakers

    rng = np.random.default_rng(3)
    voices = rng.standard_normal((3, 192))
    truth = np.repeat([0, 1, 2, 0, 1], 1_000)  # 5,000 windows: about an hour of speech
    windows = voices[truth] + 0.6 * rng.standard_normal((len(truth), 192))
    assert len(windows) > MAX_SPECTRAL_ITEMS
    labels = cluster_speakers(windows)
    assert len(set(labels)) == 3
    agreement = max(np.mean(np.array(mapping)[labels] == truth) for mapping in itertools.permutations(range(3)))
    assert agreement > 0.99
