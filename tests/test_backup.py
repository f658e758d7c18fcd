"""``parole export`` then ``parole import`` gives back the same site; a damaged or hostile backup is refused whole.

The archive is the session's interview (ingested with the real CLI on SQLite), copied,
then given what a real archive holds: a named host, a draft, a producer, an approved
comment, a corrected passage, a podcast MP3 and the producers' glossary. It is restored into SQLite and into
PostgreSQL; each copy and the original are served by real ``parole serve`` processes and
compared page by page.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import sqlite3
import tarfile
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import func, select

from archive import comments
from archive.backup import check_backup, import_archive, read_snapshot, tables
from archive.catalogue import episode_by_slug
from archive.db import Database
from archive.models import Episode, Producer
from archive.producers import add_producer, check_login
from archive.settings import Settings
from archive.store import Archive
from ingest.glossary import producer_terms, write_glossary
from ingest.synth import SECOND_INTERVIEW, synthesize
from tests.conftest import DATABASES, make_data_dir, new_database
from tests.helpers import encode_mp3, run_parole, settings_for, start_server

PRODUCER = "production@example.fr"
# The archive copied is the SQLite one (a file to copy); PostgreSQL is where it is restored to.
FROM_SQLITE_ARCHIVE = pytest.mark.parametrize("served_archive", ["sqlite"], indirect=True)
SEARCHES = ["participation", "budget participatif", "médiathèque", "pétanque", "recrutement", "Claire Dubois",
            "\"réunion publique\"", "habitants -budget"]


def copy_archive(source: Path, target: Path) -> None:
    """A consistent copy of an archive that a server may be serving: SQLite's backup API, then the media."""
    with sqlite3.connect(source / "parole.db") as live, sqlite3.connect(target / "parole.db") as copy:
        live.backup(copy)
    shutil.copytree(source / "media", target / "media")
    if (source / "secret_key").exists():
        shutil.copy2(source / "secret_key", target / "secret_key")


def ran(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def original(tmp_path_factory, model_cache, served_archive):
    """The interview archive plus a named host, a draft, a producer, a comment, a correction, a podcast MP3
    and the producers' glossary."""
    data = make_data_dir(tmp_path_factory, model_cache, "sauvegarde-origine")
    copy_archive(served_archive.data_dir, data)
    slug = served_archive.slug
    ran(run_parole(data, "speakers", slug, "--name", "SPEAKER_1", "Claire Dubois", "--role", "animatrice", "--host"))
    draft_audio = synthesize(SECOND_INTERVIEW[:3]).write_wav(tmp_path_factory.mktemp("brouillon") / "brouillon.wav")
    ran(run_parole(data, "ingest", str(draft_audio), "--title", "Le recrutement des jeunes agents", "--draft",
                   "--date", "2026-03-19", "--guest", "Nadia Benali|responsable des ressources humaines|Département"))
    password = re.search(r"une seule fois\) : (\S+)", ran(run_parole(data, "producers", "add", PRODUCER, "--generate")))
    settings = Settings(data_dir=data)
    write_glossary(settings, "Kingersheim\nCNFPT\n")
    archive = Archive(settings)
    try:
        with archive.db.sessions.begin() as session:
            episode = episode_by_slug(session, slug)
            first = episode.utterances[0]
            new = comments.add(session, episode.id, "Camille", "Merci pour cet épisode très clair.", "empreinte")
            comments.approve(session, new.id)
        archive.correct_utterance(episode.id, first.id, f"{first.text} Et le club de pétanque aussi.", first.version)
        archive.attach_podcast_audio(episode.id, encode_mp3(draft_audio, data.parent / "podcast.mp3"))
    finally:
        archive.close()
    return SimpleNamespace(data=data, slug=slug, password=password.group(1))


@pytest.fixture(scope="module")
def backup(original, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sauvegardes") / "archive.tar"
    printed = ran(run_parole(original.data, "export", str(path)))
    assert "Sauvegarde écrite" in printed and "2 épisodes" in printed
    return path


@pytest.fixture(scope="module", params=DATABASES)
def restored(request, backup, tmp_path_factory, model_cache) -> Path:
    """The backup imported into an empty data folder, on each database."""
    data = make_data_dir(tmp_path_factory, model_cache, f"sauvegarde-restauree-{request.param}",
                         new_database(request, request.param))
    printed = ran(run_parole(data, "import", str(backup)))
    assert "Sauvegarde restaurée" in printed and "index reconstruit" in printed
    return data


def links(html: str, prefix: str) -> set[str]:
    return {link for link in re.findall(r'href="([^"#?]+)', html) if link.startswith(prefix)}


def normalised(text: str, base_url: str) -> str:
    """What differs between two servers of one archive: their address (and the feed's guid, made from it)
    and the time signed into the comment form."""
    text = text.replace(base_url, "BASE")
    text = re.sub(r'(name="token" value=")[^"]*', r"\1…", text)
    text = re.sub(r"<podcast:guid>[^<]*</podcast:guid>", "", text)
    return re.sub(r"<lastBuildDate>[^<]*</lastBuildDate>", "", text)


def snapshot_of_site(base_url: str, paths: list[str]) -> dict[str, tuple[int, str]]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        answers = {}
        for path in paths:
            response = client.get(path)
            if response.headers.get("content-type", "").startswith(("audio/", "application/octet-stream")):
                body = hashlib.sha256(response.content).hexdigest()
            else:
                body = normalised(response.text, base_url)
            answers[path] = (response.status_code, body)
        return answers


def site_paths(base_url: str, slug: str) -> list[str]:
    """Every page a listener reaches from the home page and the people page, plus searches, API, feed and files."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        home, people, feed = client.get("/").text, client.get("/personnes").text, client.get("/feed.xml").text
    episodes = links(home, "/episodes/")
    persons = links(people, "/personnes/")
    enclosures = {url.replace(base_url, "") for url in re.findall(r'<enclosure url="([^"]+)"', feed)}
    assert slug and f"/episodes/{slug}" in episodes and len(persons) >= 2 and enclosures
    files = [f"/episodes/{slug}/{name}" for name in ("transcript.vtt", "transcript.srt", "transcript.json",
                                                      "transcript.txt", "transcript.html", "chapters.json")]
    searches = [f"/recherche?q={query}" for query in SEARCHES] + [f"/api/search?q={query}" for query in SEARCHES]
    return sorted({"/", "/personnes", "/feed.xml", "/api/episodes", f"/api/episodes/{slug}",
                   "/episodes/le-recrutement-des-jeunes-agents", *episodes, *persons, *enclosures, *files,
                   *searches, "/recherche?q=participation&personne=claire-dubois"})


@FROM_SQLITE_ARCHIVE
def test_a_restored_archive_serves_the_same_pages_searches_feed_and_files(original, restored):
    first, second = start_server(original.data), start_server(restored)
    try:
        paths = site_paths(first.base_url, original.slug)
        before, after = snapshot_of_site(first.base_url, paths), snapshot_of_site(second.base_url, paths)
    finally:
        first.stop()
        second.stop()
    assert before == after
    assert before["/recherche?q=pétanque"][0] == 200 and "pétanque" in before["/recherche?q=pétanque"][1]
    assert "Merci pour cet épisode très clair." in before[f"/episodes/{original.slug}"][1]
    assert "Claire Dubois" in before["/feed.xml"][1]
    assert json.loads(before["/api/search?q=participation"][1])["passage_count"] > 0


@FROM_SQLITE_ARCHIVE
def test_a_restored_archive_keeps_accounts_drafts_and_keys(original, restored):
    database = Database(settings_for(restored))
    try:
        with database.sessions.begin() as session:
            assert check_login(session, PRODUCER, original.password).producer_id is not None
            statuses = dict(session.execute(select(Episode.slug, Episode.status)).all())
    finally:
        database.dispose()
    assert statuses == {original.slug: "published", "le-recrutement-des-jeunes-agents": "draft"}
    assert (restored / "secret_key").read_bytes() == (original.data / "secret_key").read_bytes()
    assert (restored / "secret_key").stat().st_mode & 0o077 == 0
    media = {folder: sorted(path.relative_to(folder).as_posix() for path in (folder / "media").rglob("*.*"))
             for folder in (original.data, restored)}
    assert media[restored] == media[original.data] and len(media[restored]) == 3  # two audio files, one podcast MP3


@FROM_SQLITE_ARCHIVE
def test_a_restored_archive_keeps_the_producers_glossary(original, restored):
    assert producer_terms(settings_for(restored)) == ["Kingersheim", "CNFPT"]
    assert (restored / "glossaire.txt").read_bytes() == (original.data / "glossaire.txt").read_bytes()


@FROM_SQLITE_ARCHIVE
def test_a_backup_without_a_glossary_still_imports(backup, tmp_path):
    """A backup written before the glossary was saved: no glossaire.txt, in the file or in its manifest."""
    older = without_the_glossary(backup, tmp_path / "ancienne.tar")
    assert not check_backup(older).has_glossary
    target = tmp_path / "donnees"
    summary = import_archive(settings_for(target), older)
    assert summary.episodes == 2 and summary.media_files == 3
    assert not (target / "glossaire.txt").exists() and producer_terms(settings_for(target)) == []


@FROM_SQLITE_ARCHIVE
def test_the_manifest_lists_every_file_with_its_sha256(backup):
    with tarfile.open(backup) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        members = {member.name: tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()}
    assert (manifest["format"], manifest["version"]) == ("parole-backup", 1)
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(members) - {"manifest.json"} and "glossaire.txt" in listed
    for path, content in members.items():
        if path != "manifest.json":
            assert (listed[path]["size"], listed[path]["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())
    rows = {table["name"]: table["rows"] for table in manifest["tables"]}
    assert rows["episodes"] == 2 and rows["producers"] == 1 and rows["comments"] == 1 and rows["utterances"] > 10
    first_episode = json.loads(members["db/episodes.jsonl"].splitlines()[0])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", first_episode["date"])


@FROM_SQLITE_ARCHIVE
def test_a_restored_archive_exports_the_same_rows_and_takes_new_ones(backup, restored, tmp_path):
    """SQLite → backup → PostgreSQL (or SQLite) → backup: every table's rows come out byte for byte the same.

    Then the restored archive keeps growing: new rows get ids after the restored ones.
    """
    again = tmp_path / "encore.tar"
    ran(run_parole(restored, "export", str(again)))

    def dumped_tables(path: Path) -> dict[str, bytes]:
        with tarfile.open(path) as tar:
            return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.name.startswith("db/")}

    first, second = dumped_tables(backup), dumped_tables(again)
    assert first.keys() == second.keys() and len(first) > 5
    for name in first:
        assert first[name] == second[name], name
    ran(run_parole(restored, "producers", "add", "nouvelle@example.fr", "--generate"))
    ran(run_parole(restored, "speakers", "la-participation-citoyenne-au-quotidien", "--name", "SPEAKER_2",
                   "Léa Martin"))


def rewritten(source: Path, target: Path, drop: str | None = None, extra: tarfile.TarInfo | None = None) -> Path:
    """The backup with one member left out or one added, everything else byte for byte."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for member in old.getmembers():
            if member.name != drop:
                new.addfile(member, old.extractfile(member))
        if extra is not None:
            new.addfile(extra, io.BytesIO(b"x" * extra.size) if extra.isfile() else None)
    return target


def flipped_byte(source: Path, target: Path, prefix: str = "media/") -> Path:
    """The backup with one byte of a member changed in place: same size, another sha256."""
    with tarfile.open(source) as tar:
        chosen = next(member for member in tar.getmembers() if member.name.startswith(prefix))
    data = bytearray(source.read_bytes())
    data[chosen.offset_data + chosen.size // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


def truncated(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    return target


def without_member(source: Path, target: Path, path: str) -> Path:
    """A consistent-looking backup (manifest rewritten) that lacks one file."""
    with tarfile.open(source) as old:
        manifest = json.load(old.extractfile("manifest.json"))
        assert path in {entry["path"] for entry in manifest["files"]}
        manifest["files"] = [entry for entry in manifest["files"] if entry["path"] != path]
        encoded = json.dumps(manifest).encode()
        with tarfile.open(target, "w") as new:
            new.addfile(named("manifest.json", size=len(encoded)), io.BytesIO(encoded))
            for member in old.getmembers():
                if member.name not in ("manifest.json", path):
                    new.addfile(member, old.extractfile(member))
    return target


def without_an_episode_audio(source: Path, target: Path) -> Path:
    with tarfile.open(source) as old:
        manifest = json.load(old.extractfile("manifest.json"))
    audio = next(entry["path"] for entry in manifest["files"] if entry["path"].endswith(".wav"))
    return without_member(source, target, audio)


def without_the_glossary(source: Path, target: Path) -> Path:
    return without_member(source, target, "glossaire.txt")


def named(name: str, kind: bytes = tarfile.REGTYPE, size: int = 1, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size if kind == tarfile.REGTYPE else 0, link
    return info


DAMAGES = {
    "octet-inverse-dans-un-media": (flipped_byte, "abîmé"),
    "glossaire-trafique": (lambda source, target: flipped_byte(source, target, "glossaire.txt"),
                           "glossaire.txt est abîmé"),
    "archive-tronquee": (truncated, "tronqué"),
    "manifeste-absent": (lambda source, target: rewritten(source, target, drop="manifest.json"),
                         "manifest.json manque"),
    "chemin-hors-du-dossier": (lambda source, target: rewritten(source, target, extra=named("../evil")),
                               "chemin dangereux"),
    "chemin-absolu": (lambda source, target: rewritten(source, target, extra=named("/tmp/evil")), "chemin dangereux"),
    "audio-d-un-episode-absent": (without_an_episode_audio, "n'y figure pas"),
    "lien-symbolique": (lambda source, target: rewritten(source, target, extra=named(
        "media/ab/" + "ab" * 32 + ".wav", tarfile.SYMTYPE, link="/etc/passwd")), "n'est pas un fichier ordinaire"),
}


@FROM_SQLITE_ARCHIVE
@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_backup_is_refused_before_anything_is_written(damage, backup, tmp_path, model_cache):
    make, reason = DAMAGES[damage]
    damaged = make(backup, tmp_path / f"{damage}.tar")
    target = tmp_path / "donnees"
    target.mkdir()
    (target / "models").symlink_to(model_cache, target_is_directory=True)
    result = run_parole(target, "import", str(damaged))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Sauvegarde refusée" in result.stderr and reason in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in target.iterdir()) == ["models"]  # no database, no media, no index


@FROM_SQLITE_ARCHIVE
def test_an_unknown_format_version_is_refused(backup, tmp_path):
    with tarfile.open(backup) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    manifest["version"] = 99
    encoded = json.dumps(manifest).encode()
    info = named("manifest.json", size=len(encoded))
    changed = tmp_path / "futur.tar"
    with tarfile.open(backup) as old, tarfile.open(changed, "w") as new:
        new.addfile(info, io.BytesIO(encoded))
        for member in old.getmembers():
            if member.name != "manifest.json":
                new.addfile(member, old.extractfile(member))
    result = run_parole(tmp_path / "donnees", "import", str(changed))
    assert result.returncode == 2 and "version 99" in result.stderr
    assert not (tmp_path / "donnees").exists()


@FROM_SQLITE_ARCHIVE
def test_an_import_that_fails_half_way_leaves_the_folder_empty(backup, tmp_path, model_cache):
    """Rows are in and media copied when the index cannot be written (its folder is a file): all of it is undone."""
    target = tmp_path / "donnees"
    target.mkdir()
    (target / "index").write_text("pas un dossier")
    result = run_parole(target, "import", str(backup))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Import interrompu" in result.stderr and "Traceback" not in result.stderr
    database = Database(Settings(data_dir=target))
    try:
        with database.session() as session:
            counts = {table.name: session.scalar(select(func.count()).select_from(table)) for table in tables()}
    finally:
        database.dispose()
    assert set(counts.values()) == {0}, counts
    assert [path for path in (target / "media").rglob("*") if path.is_file()] == []
    assert not (target / "secret_key").exists() and not (target / "glossaire.txt").exists()


@FROM_SQLITE_ARCHIVE
def test_importing_over_an_existing_archive_is_refused(original, backup):
    database = Database(Settings(data_dir=original.data))
    try:
        with database.session() as session:
            before = session.scalar(select(func.count()).select_from(Episode))
        result = run_parole(original.data, "import", str(backup))
        with database.session() as session:
            after = session.scalar(select(func.count()).select_from(Episode))
    finally:
        database.dispose()
    assert result.returncode == 2 and "contient déjà une archive (2 épisodes)" in result.stderr
    assert before == after == 2


def test_the_export_reads_one_consistent_snapshot(tmp_path, database_url):
    """Rows committed while the export reads are all left out, not half taken."""
    database = Database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        with read_snapshot(database.engine) as snapshot:
            before = snapshot.scalar(select(func.count()).select_from(Producer))
            with database.sessions.begin() as session:
                add_producer(session, "pendant@example.fr", "un mot de passe assez long")
            during = snapshot.scalar(select(func.count()).select_from(Producer))
        with database.session() as session:
            after = session.scalar(select(func.count()).select_from(Producer))
    finally:
        database.dispose()
    assert (before, during, after) == (0, 0, 1)
