"""Editing an episode's chapters. Chapters are numbered from 1 for people.

Every edit marks the chapters it touches as ``edited``, so that running the topic stage
again never overwrites a producer's work unless they ask for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from archive.models import Chapter, Episode
from archive.records import Chapter as ChapterRecord

MIN_CHAPTER = 1.0  # seconds


class ChapterError(Exception):
    """An edit that cannot be made; the message says why, in French."""


def chapter_at(chapters: Sequence[Chapter], moment: float) -> Chapter | None:
    for chapter in chapters:
        if chapter.start <= moment < chapter.end:
            return chapter
    return chapters[-1] if chapters and moment >= chapters[-1].start else None


def _numbered(episode: Episode, number: int) -> Chapter:
    if not 1 <= number <= len(episode.chapters):
        raise ChapterError(f"Chapitre {number} inexistant : l'épisode en compte {len(episode.chapters)}.")
    return episode.chapters[number - 1]


def rename(episode: Episode, number: int, title: str) -> None:
    title = " ".join(title.split())
    if not title:
        raise ChapterError("Le titre ne peut pas être vide.")
    if len(title) > 200:
        raise ChapterError("Titre trop long (200 caractères au plus).")
    chapter = _numbered(episode, number)
    chapter.title, chapter.edited = title, True


def split(episode: Episode, moment: float) -> Chapter:
    """Cut the chapter that contains ``moment`` in two, at the utterance that starts nearest to it."""
    chapter = chapter_at(episode.chapters, moment) if 0 <= moment < episode.duration else None
    if chapter is None:
        raise ChapterError(f"Aucun chapitre à {moment:.1f} s (durée : {episode.duration:.1f} s).")
    starts = [u.start for u in episode.utterances if chapter.start + MIN_CHAPTER < u.start < chapter.end - MIN_CHAPTER]
    cut = min(starts, key=lambda start: abs(start - moment)) if starts else moment
    if not chapter.start + MIN_CHAPTER <= cut <= chapter.end - MIN_CHAPTER:
        raise ChapterError("Coupure trop près du début ou de la fin du chapitre.")
    second = Chapter(start=cut, end=chapter.end, title=f"{chapter.title} (suite)", keywords=list(chapter.keywords),
                     edited=True)
    chapter.end, chapter.edited = cut, True
    episode.chapters.insert(episode.chapters.index(chapter) + 1, second)
    return second


def merge(episode: Episode, number: int) -> None:
    """Chapter ``number`` absorbs the one after it."""
    chapter = _numbered(episode, number)
    if number == len(episode.chapters):
        raise ChapterError(f"Le chapitre {number} est le dernier : rien à fusionner après lui.")
    following = episode.chapters[number]
    chapter.end, chapter.edited = following.end, True
    chapter.keywords = list(dict.fromkeys([*chapter.keywords, *following.keywords]))
    episode.chapters.remove(following)


def replace(episode: Episode, records: Sequence[ChapterRecord], force: bool = False) -> None:
    """Put the topic stage's chapters in place, unless a producer edited the current ones."""
    if not force and any(chapter.edited for chapter in episode.chapters):
        raise ChapterError("Des chapitres ont été modifiés à la main : ajoutez --force pour les remplacer.")
    episode.chapters.clear()
    for record in records:
        episode.chapters.append(Chapter(start=record.start, end=record.end, title=record.title,
                                        keywords=list(record.keywords)))
