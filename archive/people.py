"""People and the voices they own: display names, naming a speaker, recognising one."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Episode, EpisodePerson, Person
from archive.slugs import slugify
from archive.voiceprints import refresh_voiceprint


class NamingError(Exception):
    """A producer named something that does not exist; the message says what, in French."""


def anonymous_name(label: str) -> str:
    """``SPEAKER_2`` → ``Intervenant 2``."""
    match = re.search(r"(\d+)$", label)
    return f"Intervenant {match.group(1)}" if match else label


def speaker_names(episode: Episode) -> dict[str, str]:
    """Label → what pages and files show: the person's name, or "Intervenant N"."""
    names = {voice.label: voice.person.name if voice.person else anonymous_name(voice.label)
             for voice in episode.speakers}
    for utterance in episode.utterances:
        if utterance.speaker and utterance.speaker not in names:
            names[utterance.speaker] = anonymous_name(utterance.speaker)
    return names


def speaker_people(episode: Episode) -> dict[str, Person]:
    return {voice.label: voice.person for voice in episode.speakers if voice.person is not None}


def find_or_create_person(session: Session, name: str, role: str = "", organisation: str = "") -> Person:
    slug = slugify(name)
    person = session.scalar(select(Person).where(Person.slug == slug))
    if person is None:
        person = Person(slug=slug, name=name.strip(), role=role, organisation=organisation)
        session.add(person)
    else:
        person.role = person.role or role
        person.organisation = person.organisation or organisation
    return person


def link_person_to_episode(episode: Episode, person: Person, role: str = "guest") -> None:
    if all(link.person is not person for link in episode.people):
        episode.people.append(EpisodePerson(person=person, role=role, position=len(episode.people)))


def name_speaker(session: Session, episode: Episode, label: str, name: str, role: str = "",
                 organisation: str = "", host: bool = False) -> Person:
    """A producer says who a voice is: link it, confirm it, and teach the voiceprint."""
    voice = next((v for v in episode.speakers if v.label == label), None)
    if voice is None:
        known = ", ".join(v.label for v in episode.speakers) or "aucun"
        raise NamingError(f"Locuteur inconnu dans cet épisode : « {label} » (locuteurs : {known}).")
    if not name.strip():
        raise NamingError("Le nom ne peut pas être vide.")
    previous = voice.person
    person = find_or_create_person(session, name, role, organisation)
    voice.person, voice.auto_recognized, voice.similarity = person, False, None
    link_person_to_episode(episode, person, "host" if host else "guest")
    if host:
        next(link for link in episode.people if link.person is person).role = "host"
    if previous is not None and previous is not person:
        refresh_voiceprint(session, previous)
    refresh_voiceprint(session, person)
    return person


def recognise_voices(session: Session, episode: Episode) -> None:
    """Link each new voice to the known person it matches best (one voice per person)."""
    from archive.voiceprints import best_match

    taken: set[int] = set()
    for voice in sorted(episode.speakers, key=lambda v: -v.talk_time):
        if voice.person is not None or not voice.embedding:
            continue
        match = best_match(session, voice.embedding, exclude=taken)
        if match:
            person, similarity = match
            voice.person, voice.auto_recognized, voice.similarity = person, True, round(similarity, 4)
            taken.add(person.id)
            link_person_to_episode(episode, person)
