"""Shaping catalogue rows for templates (no HTML here, only what to show)."""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.chapters import chapter_at
from archive.models import Chapter, Episode, Person, Utterance
from archive.people import speaker_names, speaker_people


@dataclass
class ChapterBlock:
    """A chapter of the transcript, with the speaker turns inside it."""

    chapter: Chapter | None
    number: int
    turns: list[SpeakerTurn] = field(default_factory=list)


@dataclass
class SpeakerTurn:
    """Consecutive utterances of one speaker: a paragraph of the transcript."""

    name: str | None
    person: Person | None
    show_role: bool
    auto_recognized: bool
    utterances: list[Utterance] = field(default_factory=list)


def transcript_blocks(episode: Episode) -> list[ChapterBlock]:
    """The transcript by chapter, then by speaker turn; the role is shown at a speaker's first turn."""
    names, people = speaker_names(episode), speaker_people(episode)
    automatic = {voice.label for voice in episode.speakers if voice.auto_recognized}
    blocks: list[ChapterBlock] = []
    introduced: set[str] = set()
    for utterance in episode.utterances:
        chapter = chapter_at(episode.chapters, utterance.start)
        if not blocks or blocks[-1].chapter is not chapter:
            number = episode.chapters.index(chapter) + 1 if chapter else 0
            blocks.append(ChapterBlock(chapter, number))
        turns = blocks[-1].turns
        label = utterance.speaker
        if not turns or turns[-1].utterances[-1].speaker != label:
            person = people.get(label or "")
            show_role = bool(person and person.role and label not in introduced)
            if label:
                introduced.add(label)
            turns.append(SpeakerTurn(names.get(label or ""), person, show_role, label in automatic))
        turns[-1].utterances.append(utterance)
    return blocks


def search_url(wanted, **changes) -> str:
    """The search page URL for ``wanted`` with some fields changed (empty values are left out)."""
    from urllib.parse import urlencode

    fields = {"q": wanted.text, "personne": wanted.personne, "organisation": wanted.organisation,
              "theme": wanted.theme, "annee": wanted.annee, "tri": "date" if wanted.sort == "date" else "",
              "page": ""}
    fields.update({key: "" if value is None else str(value) for key, value in changes.items()})
    return "/recherche?" + urlencode({key: value for key, value in fields.items() if value})


DOUBTFUL = 0.5  # below this recognition confidence a word is underlined for the producer to listen again


@dataclass(frozen=True)
class ReviewWord:
    text: str
    doubtful: bool


@dataclass(frozen=True)
class ReviewRow:
    """One passage on the studio's review page."""

    utterance: Utterance
    speaker_name: str
    words: list[ReviewWord]  # empty once corrected: the text is then shown as the producer wrote it


def review_rows(episode: Episode) -> list[ReviewRow]:
    names = speaker_names(episode)
    rows = []
    for utterance in episode.utterances:
        words = []
        if utterance.original_text is None:
            words = [ReviewWord(str(word[0]).strip(), float(word[3]) < DOUBTFUL) for word in utterance.words or []
                     if str(word[0]).strip()]
        rows.append(ReviewRow(utterance, names.get(utterance.speaker or "", ""), words))
    return rows
