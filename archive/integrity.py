"""``parole verify``: are the media files intact, does every episode have its audio, does the index match the store?

The store is the truth. A missing or damaged media file cannot be made again from it (its
sha256 only proves it wrong), so it stays reported until it is restored from a backup.
What is derived or unused can be fixed: ``repair`` rebuilds the index as a new generation
and removes media files nobody references. Files younger than ``GRACE_SECONDS`` are left
alone: an ingest copies its audio before committing the episode that references it.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter, defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.backup import database_exists
from archive.db import Database
from archive.engines import open_search_index
from archive.indexing import IndexBusyError, document_keys
from archive.media import file_sha256, media_path
from archive.models import Episode, EpisodePerson, EpisodeSpeaker
from archive.search import SearchEngine
from archive.settings import Settings

GRACE_SECONDS = 10 * 60
# What archive.media.store_media writes before renaming: ".<name>.<pid>.tmp".
TEMPORARY_MEDIA = re.compile(r"\..+\.\d+\.tmp")
# Documents by the first letter of their doc_id (see archive.indexing.episode_documents).
KIND_NAMES = {"e": ("fiche d'épisode", "fiches d'épisode"), "c": ("chapitre", "chapitres"),
              "u": ("passage", "passages"), "?": ("document", "documents")}
STATES = ("manquent", "en trop", "en double")


class NoArchiveError(Exception):
    """There is nothing to verify at this place (French message)."""


@dataclass
class Finding:
    """One problem, in one French line; ``outcome`` says what ``repair`` did about it."""

    message: str
    repairable: bool
    outcome: str | None = None

    @property
    def repaired(self) -> bool:
        return self.outcome is not None

    def line(self) -> str:
        return f"{self.message} → {self.outcome}." if self.outcome else f"{self.message}."


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth saying, not a problem (e.g. a file being written now)
    episodes: int = 0
    media_files: int = 0
    index_documents: int = 0

    @property
    def remaining(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.repaired]

    @property
    def ok(self) -> bool:
        return not self.remaining

    def summary(self, repair: bool) -> str:
        media = _count(self.media_files, "fichier média vérifié", "fichiers médias vérifiés")
        documents = _count(self.index_documents, "document")
        checked = f"{_count(self.episodes, 'épisode')}, {media}, {documents} dans l'index"
        if not self.findings:
            return f"Tout est en ordre : {checked}."
        if self.ok:
            fixed = _count(len(self.findings), "problème corrigé", "problèmes corrigés")
            return f"Tout est réparé : {fixed} ({checked})."
        left = self.remaining
        text = f"{_count(len(left), 'problème reste', 'problèmes restent')} à traiter ({checked})."
        if not repair and any(finding.repairable for finding in left):
            text += " « parole verify --repair » reconstruit l'index et retire les fichiers inutiles."
        if any(not finding.repairable for finding in left):
            text += " Un média manquant ou abîmé se restaure depuis une sauvegarde (parole export / parole import)."
        return text


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number <= 1 else (many or one + 's')}"


def verify_archive(settings: Settings, repair: bool = False) -> Report:
    """Check media, audio and index; with ``repair``, fix what is derived or unused. Never raises for what it finds."""
    if not database_exists(settings):
        raise NoArchiveError(f"Aucune archive dans « {settings.data_dir} » : rien à vérifier.")
    database = Database(settings)
    report = Report()
    try:
        with database.session() as session:
            episodes = session.execute(select(Episode.id, Episode.slug, Episode.audio_sha256, Episode.audio_ext,
                                              Episode.audio_size, Episode.podcast_sha256, Episode.podcast_size)).all()
            expected = document_keys(session)
        report.episodes = len(episodes)
        referenced = _check_media(settings, episodes, report)
        orphans = _find_unused_files(settings, referenced, report)
        index = open_search_index(settings)
        slugs = {str(row.id): row.slug for row in episodes}
        index_findings = _check_index(index, expected, slugs, report)
        leftovers = _find_leftover_generations(settings, index, report)
        if repair:
            _remove_files(orphans, settings.media_dir)
            _remove_leftovers(index, leftovers)
            if index_findings:
                _rebuild_index(database, index, index_findings, report)
    finally:
        database.dispose()
    return report


def _shown(settings: Settings, path: Path) -> str:
    """A path as the user knows it: relative to the data folder."""
    try:
        return path.relative_to(settings.data_dir).as_posix()
    except ValueError:
        return str(path)


# -- media ----------------------------------------------------------------------------------


def _check_media(settings: Settings, episodes: list, report: Report) -> set[Path]:
    """Every episode's audio (and podcast MP3) present and matching its sha256; returns the paths they use."""
    referenced: set[Path] = set()
    for row in episodes:
        wanted = [("l'audio", row.audio_sha256, row.audio_ext, row.audio_size)]
        if row.podcast_sha256:
            wanted.append(("le MP3 du podcast", row.podcast_sha256, "mp3", row.podcast_size))
        for what, sha256, extension, size in wanted:
            owner = f"{what} de l'épisode « {row.slug} »"
            try:
                path = media_path(settings.media_dir, sha256, extension)
            except ValueError:
                report.findings.append(Finding(f"Empreinte invalide dans la base pour {owner}", repairable=False))
                continue
            referenced.add(path)
            shown = _shown(settings, path)
            if not path.is_file():
                report.findings.append(Finding(f"Média manquant : {shown} ({owner})", repairable=False))
                continue
            report.media_files += 1
            if (size is not None and path.stat().st_size != size) or file_sha256(path) != sha256:
                report.findings.append(Finding(f"Média abîmé : {shown} ({owner}) — son contenu ne correspond plus "
                                               "à son empreinte sha256", repairable=False))
    return referenced


def _find_unused_files(settings: Settings, referenced: set[Path], report: Report) -> list[tuple[Path, Finding]]:
    """Files in the media folder no episode references, and temporary copies left by a process that stopped."""
    media_dir = settings.media_dir
    if not media_dir.is_dir():
        return []
    cutoff = time.time() - GRACE_SECONDS
    unused = []
    for folder, _subfolders, names in os.walk(media_dir):
        for name in sorted(names):
            path = Path(folder) / name
            if path in referenced:
                continue
            temporary = bool(TEMPORARY_MEDIA.fullmatch(name))
            shown = _shown(settings, path)
            if path.lstat().st_mtime > cutoff:
                report.notes.append(f"Fichier récent non référencé laissé en place (sans doute en cours "
                                    f"d'enregistrement) : {shown}.")
                continue
            message = (f"Fichier temporaire abandonné : {shown}" if temporary
                       else f"Fichier média orphelin : {shown} (aucun épisode ne l'utilise)")
            finding = Finding(message, repairable=True)
            report.findings.append(finding)
            unused.append((path, finding))
    return unused


def _remove_files(unused: list[tuple[Path, Finding]], media_dir: Path) -> None:
    for path, finding in unused:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            finding.message += f" (suppression impossible : {error.strerror})"
            continue
        finding.outcome = "supprimé"
        if path.parent != media_dir:
            with suppress(OSError):
                path.parent.rmdir()  # the two-letter folder, once empty


# -- index ----------------------------------------------------------------------------------


def _check_index(index: SearchEngine, expected: list[tuple[str, str]], slugs: dict[str, str],
                 report: Report) -> list[Finding]:
    """The index holds one document per episode, chapter and utterance of the store, no more, no less."""
    found: list[Finding] = []
    if not index.exists():
        if (index.generations.root / "CURRENT").exists():
            found.append(Finding("Index de recherche illisible : son fichier CURRENT ne désigne aucun index",
                                 repairable=True))
        elif expected:
            found.append(Finding("Index de recherche absent", repairable=True))
    else:
        problem = index.open_error()
        if problem is not None:
            found.append(Finding(f"Index de recherche illisible, fichiers abîmés ou manquants ({_first_line(problem)})",
                                 repairable=True))
        elif not index.is_current():
            found.append(Finding("Index de recherche construit par une autre version de Parole", repairable=True))
        else:
            try:
                indexed = index.indexed_keys()
            except Exception as error:  # a damaged segment can fail in many ways; all mean "rebuild"
                found.append(Finding(f"Index de recherche illisible ({_first_line(str(error))})", repairable=True))
            else:
                report.index_documents = len(indexed)
                found += _compare_keys(expected, indexed, slugs)
    report.findings += found
    return found


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "raison inconnue")[:200]


def _kind(doc_id: str) -> str:
    return doc_id[:1] if doc_id[:1] in KIND_NAMES else "?"


def _compare_keys(expected: list[tuple[str, str]], indexed: list[tuple[str, str]],
                  slugs: dict[str, str]) -> list[Finding]:
    """One finding per episode whose documents differ: missing, extra or doubled, counted by kind."""
    wanted, present = set(expected), Counter(indexed)
    differences: dict[str, Counter] = defaultdict(Counter)
    for doc_id, episode_id in wanted - set(present):
        differences[episode_id]["manquent", _kind(doc_id)] += 1
    for (doc_id, episode_id), copies in present.items():
        if (doc_id, episode_id) not in wanted:
            differences[episode_id]["en trop", _kind(doc_id)] += copies
        elif copies > 1:
            differences[episode_id]["en double", _kind(doc_id)] += copies - 1
    findings = []
    for episode_id in sorted(differences, key=lambda key: (len(key), key)):
        counts = differences[episode_id]
        details = []
        for state in STATES:
            listed = [_count(counts[state, kind], one, many) for kind, (one, many) in KIND_NAMES.items()
                      if counts[state, kind]]
            if listed:
                details.append(f"{state} : {', '.join(listed)}")
        owner = (f"l'épisode « {slugs[episode_id]} »" if episode_id in slugs
                 else f"l'épisode n° {episode_id or '?'}, qui n'existe plus")
        findings.append(Finding(f"Index différent de la base pour {owner} — {' ; '.join(details)}", repairable=True))
    return findings


def _find_leftover_generations(settings: Settings, index: SearchEngine, report: Report) -> list[tuple[Path, Finding]]:
    """Index folders a rebuild left behind when its process stopped (see archive.generations)."""
    leftovers = []
    for path in index.generations.leftovers(GRACE_SECONDS):
        finding = Finding(f"Reste d'une reconstruction de l'index interrompue : {_shown(settings, path)}",
                          repairable=True)
        report.findings.append(finding)
        leftovers.append((path, finding))
    return leftovers


def _remove_leftovers(index: SearchEngine, leftovers: list[tuple[Path, Finding]]) -> None:
    for path, finding in leftovers:
        index.generations.remove(path)
        finding.outcome = "supprimé"


def _rebuild_index(database: Database, index: SearchEngine, findings: list[Finding], report: Report) -> None:
    """A new generation from the store, swapped in at once; the damaged one is then removed."""
    try:
        with database.session() as session:
            ids = session.scalars(select(Episode.id).order_by(Episode.id)).all()
            episodes = (session.scalar(select(Episode).where(Episode.id == episode_id).options(
                selectinload(Episode.utterances), selectinload(Episode.chapters),
                selectinload(Episode.people).selectinload(EpisodePerson.person),
                selectinload(Episode.speakers).selectinload(EpisodeSpeaker.person))) for episode_id in ids)
            count = index.rebuild(episodes)
    except (IndexBusyError, OSError) as error:
        report.findings.append(Finding(f"Reconstruction de l'index impossible : {error}", repairable=True))
        return
    report.index_documents = count
    for finding in findings:
        finding.outcome = f"index reconstruit ({_count(count, 'document')})"
