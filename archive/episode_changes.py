"""A producer's edit of an episode's card, checked before anything is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from archive import soundbites
from archive.models import Episode

STATUSES = ("draft", "published")


@dataclass(frozen=True)
class EpisodeChanges:
    """Only the fields that are set change; ``clear_soundbite`` goes back to the proposed one."""

    title: str | None = None
    description: str | None = None
    date: dt.date | None = None
    status: str | None = None
    episode_number: int | None = None
    season: int | None = None
    soundbite: tuple[float, float] | None = None  # (start, duration) in seconds
    clear_soundbite: bool = False

    def apply_to(self, episode: Episode) -> None:
        """Check every change, then apply them all (ValueError with a French message otherwise)."""
        if self.title is not None and not self.title.strip():
            raise ValueError("Le titre ne peut pas être vide.")
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"Statut inconnu : « {self.status} » (brouillon ou publié).")
        for label, number in (("Le numéro d'épisode", self.episode_number), ("Le numéro de saison", self.season)):
            if number is not None and number < 1:
                raise ValueError(f"{label} doit être un entier positif.")
        if self.soundbite is not None:
            check_soundbite(episode, *self.soundbite)

        if self.title is not None:
            episode.title = self.title.strip()
        if self.description is not None:
            episode.description = self.description.strip()
        for name in ("date", "status", "episode_number", "season"):
            if (value := getattr(self, name)) is not None:
                setattr(episode, name, value)
        if self.clear_soundbite:
            soundbites.store(episode, soundbites.propose(episode))
        if self.soundbite is not None:
            soundbites.store(episode, soundbites.pick(episode, *self.soundbite))


def check_soundbite(episode: Episode, start: float, duration: float) -> None:
    if not soundbites.SOUNDBITE_MIN <= duration <= soundbites.SOUNDBITE_MAX:
        raise ValueError("Un extrait à partager dure de 15 à 120 secondes.")
    if start < 0 or start + duration > episode.duration + 0.5:
        raise ValueError(f"L'extrait doit tenir dans l'épisode ({episode.duration:.0f} s).")
