"""Shaping catalogue rows for templates (no HTML here, only what to show)."""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.models import Episode, Person, Utterance
from archive.people import speaker_names, speaker_people


@dataclass
class SpeakerTurn:
    """Consecutive utterances of one speaker: a paragraph of the transcript."""

    name: str | None
    person: Person | None
    show_role: bool
    auto_recognized: bool
    utterances: list[Utterance] = field(default_factory=list)


def transcript_turns(episode: Episode) -> list[SpeakerTurn]:
    names, people = speaker_names(episode), speaker_people(episode)
    automatic = {voice.label for voice in episode.speakers if voice.auto_recognized}
    turns: list[SpeakerTurn] = []
    introduced: set[str] = set()
    for utterance in episode.utterances:
        label = utterance.speaker
        if not turns or turns[-1].utterances[-1].speaker != label:
            person = people.get(label or "")
            show_role = bool(person and person.role and label not in introduced)
            if label:
                introduced.add(label)
            turns.append(SpeakerTurn(names.get(label or ""), person, show_role, label in automatic))
        turns[-1].utterances.append(utterance)
    return turns
