"""Backups: the whole archive in one tar file, and back into an empty data folder.

Layout of the tar (format ``parole-backup``, version 1)::

    manifest.json             format and version, creation time, Parole version, rows per table,
                              and the size and sha256 of every other member
    db/<table>.jsonl          one JSON object per row, tables in foreign-key order, dates as ISO strings
    media/ab/<sha256>.<ext>   episode audio and podcast MP3s, named as in the data folder
    secret_key                the studio's key (sessions, comment hashes), when the data folder has one
    glossaire.txt             the producers' glossary (settings.glossary_path, UTF-8), when it exists

Rows are the portable part: a dump from SQLite restores into PostgreSQL and the other way
round. The search index is not saved: it is derived, and an import rebuilds it. An import
reads the whole file once before writing anything, so a damaged or hostile file is refused
with nothing written; the restore itself is one transaction, undone (rows, media, index,
key, glossary) if any step fails. A backup without a glossary (an older one) imports all the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import re
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Insert,
    Integer,
    Table,
    TypeDecorator,
    bindparam,
    func,
    literal,
    make_url,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from archive.db import Database
from archive.media import media_path, remove_media
from archive.models import Base, Episode
from archive.settings import Settings

FORMAT_NAME = "parole-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SECRET_KEY = "secret_key"
GLOSSARY = "glossaire.txt"
GLOSSARY_LIMIT = 2 << 20  # the studio writes at most 100,000 characters; a hand-edited file a little more
CHUNK = 1 << 20
INSERT_BATCH = 500
MANIFEST_LIMIT = 64 << 20
MEDIA_MEMBER = re.compile(r"media/(?P<prefix>[0-9a-f]{2})/(?P<sha256>(?P=prefix)[0-9a-f]{62})\.[A-Za-z0-9]{1,8}")
TABLE_MEMBER = re.compile(r"db/(?P<table>[a-z_]+)\.jsonl")

Progress = Callable[[int, int], None]


class BackupError(Exception):
    """A backup that cannot be written or restored; the message (French) says why and what to do."""


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    rows: dict[str, int]
    media_files: int
    size: int

    @property
    def episodes(self) -> int:
        return self.rows.get(Episode.__tablename__, 0)


@dataclass(frozen=True)
class ImportSummary:
    rows: dict[str, int]
    media_files: int
    index_documents: int

    @property
    def episodes(self) -> int:
        return self.rows.get(Episode.__tablename__, 0)


@dataclass(frozen=True)
class Member:
    path: str
    size: int
    sha256: str


@dataclass
class CheckedBackup:
    """What a whole read of the file found, all of it consistent with the manifest."""

    created_at: str
    parole_version: str
    rows: dict[str, int]
    files: dict[str, Member] = field(default_factory=dict)

    @property
    def media(self) -> list[Member]:
        return [member for path, member in sorted(self.files.items()) if path.startswith("media/")]

    @property
    def has_secret_key(self) -> bool:
        return SECRET_KEY in self.files

    @property
    def has_glossary(self) -> bool:
        return GLOSSARY in self.files


def tables() -> list[Table]:
    """Every table of the catalogue, parents before children (foreign-key order)."""
    return list(Base.metadata.sorted_tables)


# -- rows as JSON ---------------------------------------------------------------------------


def _storage_type(column: Column) -> TypeEngine:
    """The SQL type under the models' TypeDecorators (UTCDateTime is a DateTime)."""
    kind = column.type
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


def _zoned(column: Column) -> bool:
    kind = _storage_type(column)
    return isinstance(kind, DateTime) and kind.timezone


def _encode(column: Column, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and _zoned(column):
            value = value.replace(tzinfo=dt.UTC)  # SQLite gives stored UTC times back without their zone
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decode(column: Column, value: Any) -> Any:
    """The value a JSON row holds, as the column takes it; ValueError or TypeError when it cannot be."""
    if value is None:
        return None
    kind = _storage_type(column)
    if isinstance(kind, DateTime):
        moment = dt.datetime.fromisoformat(value)
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None and _zoned(column) else moment
    if isinstance(kind, Date):
        return dt.date.fromisoformat(value)
    return value


def _row_line(table: Table, row: Any) -> bytes:
    values = {column.name: _encode(column, row[column.name]) for column in table.columns}
    return (json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _parse_row(table: Table, line: bytes, where: str) -> dict[str, Any]:
    try:
        values = json.loads(line)
        if not isinstance(values, dict):
            raise TypeError("une ligne doit être un objet JSON")
        unknown = set(values) - set(table.columns.keys())
        if unknown:
            raise BackupError(f"{where} : colonne inconnue « {sorted(unknown)[0]} » — cette sauvegarde vient d'une "
                              "version plus récente de Parole ; mettez Parole à jour pour l'importer.")
        return {name: _decode(table.columns[name], value) for name, value in values.items()}
    except (ValueError, TypeError) as error:
        raise BackupError(f"Sauvegarde abîmée : {where} est illisible ({error}). Rien n'a été importé.") from error


# -- export ---------------------------------------------------------------------------------


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction over every table: rows written meanwhile by the site are all in or all out.

    pysqlite starts no transaction for a SELECT, so each query would see a newer state: on SQLite
    the transaction is begun by hand (in WAL mode its snapshot is taken at the first read).
    """
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                connection.exec_driver_sql("ROLLBACK")
        else:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin() as transaction:
                yield connection
                transaction.rollback()


class _HashingReader:
    """A file read through once while its sha256 is computed (a media file can be 1 GB: never held whole)."""

    def __init__(self, stream: IO[bytes], on_read: Callable[[int], None] | None = None) -> None:
        self.stream, self.on_read, self.digest = stream, on_read, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        if self.on_read is not None:
            self.on_read(len(data))
        return data


def _dump_table(connection: Connection, table: Table, target: Path) -> tuple[int, Member]:
    digest, count = hashlib.sha256(), 0
    query = select(table).order_by(*table.primary_key.columns).execution_options(yield_per=1000)
    with target.open("wb") as out:
        for row in connection.execute(query).mappings():
            line = _row_line(table, row)
            digest.update(line)
            out.write(line)
            count += 1
    return count, Member(f"db/{table.name}.jsonl", target.stat().st_size, digest.hexdigest())


def _referenced_media(connection: Connection, media_dir: Path) -> dict[str, Path]:
    """Archive name → file on disk, for every episode's audio and podcast MP3."""
    found: dict[str, Path] = {}
    rows = connection.execute(select(Episode.audio_sha256, Episode.audio_ext, Episode.podcast_sha256))
    for audio_sha256, audio_ext, podcast_sha256 in rows:
        for sha256, extension in ((audio_sha256, audio_ext), (podcast_sha256, "mp3")):
            if sha256:
                name = media_path(Path("media"), sha256, extension).as_posix()
                found[name] = media_path(media_dir, sha256, extension)
    return found


def _parole_version() -> str:
    try:
        return importlib.metadata.version("parole")
    except importlib.metadata.PackageNotFoundError:
        return "inconnue"


def _tar_info(name: str, size: int, mode: int = 0o644, mtime: float | None = None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, mode, int(mtime if mtime is not None else time.time())
    return info


def database_exists(settings: Settings) -> bool:
    """False only for a SQLite file not created yet: opening it would create an empty archive."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return True
    return Path(url.database).exists()


def export_archive(settings: Settings, target: Path, on_progress: Progress | None = None) -> ExportSummary:
    """Write the archive to ``target`` (a tar file), atomically: a failed export leaves no file behind."""
    target = Path(target)
    if not target.parent.is_dir():
        raise BackupError(f"Le dossier « {target.parent} » n'existe pas : créez-le ou choisissez un autre chemin.")
    if target.is_dir():
        raise BackupError(f"« {target} » est un dossier : donnez le nom du fichier à écrire (ex. sauvegarde.tar).")
    if not database_exists(settings):
        raise BackupError(f"Aucune archive dans « {settings.data_dir} » : rien à sauvegarder.")
    database = Database(settings)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".parole-export-") as folder:
            rows, files, media = _snapshot(database.engine, settings.media_dir, Path(folder))
            secret = Path(settings.data_dir) / SECRET_KEY
            key = secret.read_bytes() if secret.is_file() else None
            glossary = _glossary_bytes(settings.glossary_path)
            _write_tar(partial, rows, files, media, key, glossary, Path(folder), on_progress)
        os.replace(partial, target)
    except OSError as error:
        raise BackupError(f"Écriture de la sauvegarde impossible : {error.strerror or error} "
                          f"({error.filename or target}).") from error
    finally:
        partial.unlink(missing_ok=True)
        database.dispose()
    return ExportSummary(target, rows, len(media), target.stat().st_size)


def _glossary_bytes(path: Path) -> bytes | None:
    """The producers' glossary as it is on disk, or None when there is none yet."""
    if not path.is_file():
        return None
    with path.open("rb") as stream:
        data = stream.read(GLOSSARY_LIMIT + 1)
    if len(data) > GLOSSARY_LIMIT:
        raise BackupError(f"Le glossaire des producteurs « {path} » dépasse {GLOSSARY_LIMIT >> 20} Mo : "
                          "allégez-le (page « Glossaire » du studio). Aucune sauvegarde n'a été écrite.")
    return data


def _snapshot(engine: Engine, media_dir: Path, folder: Path) -> tuple[dict[str, int], list[Member], dict[str, Path]]:
    """Every table dumped to ``folder`` and the media they reference, all read in one transaction."""
    rows: dict[str, int] = {}
    files: list[Member] = []
    with read_snapshot(engine) as connection:
        for table in tables():
            rows[table.name], member = _dump_table(connection, table, folder / f"{table.name}.jsonl")
            files.append(member)
        media = _referenced_media(connection, media_dir)
    return rows, files, media


def _write_tar(path: Path, rows: dict[str, int], dumps: list[Member], media: dict[str, Path], key: bytes | None,
               glossary: bytes | None, folder: Path, on_progress: Progress | None) -> None:
    files = list(dumps)
    for name, source in sorted(media.items()):
        try:
            files.append(Member(name, source.stat().st_size, Path(name).stem))
        except FileNotFoundError as error:
            raise BackupError(f"Le fichier média {name} est absent : lancez « parole verify » pour faire le point. "
                              "Aucune sauvegarde n'a été écrite.") from error
    small = {name: data for name, data in ((SECRET_KEY, key), (GLOSSARY, glossary)) if data is not None}
    for name, data in small.items():
        files.append(Member(name, len(data), hashlib.sha256(data).hexdigest()))
    manifest = {
        "format": FORMAT_NAME, "version": FORMAT_VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "parole_version": _parole_version(),
        "tables": [{"name": name, "rows": count} for name, count in rows.items()],
        "files": [{"path": member.path, "size": member.size, "sha256": member.sha256} for member in files],
    }
    total, done = sum(member.size for member in files if member.path not in small), 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if on_progress is not None:
            on_progress(done, total)

    encoded = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
    with path.open("wb") as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.addfile(_tar_info(MANIFEST, len(encoded)), _BytesReader(encoded))
            for member in dumps:
                with (folder / Path(member.path).name).open("rb") as stream:
                    tar.addfile(_tar_info(member.path, member.size), _HashingReader(stream, advance))
            for member in files[len(dumps):]:
                if member.path in small:
                    mode = 0o600 if member.path == SECRET_KEY else 0o644
                    tar.addfile(_tar_info(member.path, member.size, mode), _BytesReader(small[member.path]))
                    continue
                source = media[member.path]
                with source.open("rb") as stream:
                    reader = _HashingReader(stream, advance)
                    tar.addfile(_tar_info(member.path, member.size, mtime=source.stat().st_mtime), reader)
                if reader.digest.hexdigest() != member.sha256:
                    raise BackupError(f"Le fichier média {member.path} ne correspond plus à son empreinte sha256 : "
                                      "lancez « parole verify » pour faire le point. "
                                      "Aucune sauvegarde n'a été écrite.")
        raw.flush()
        os.fsync(raw.fileno())


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.offset + size
        chunk, self.offset = self.data[self.offset:end], min(end, len(self.data))
        return chunk


# -- checking a backup (nothing written) ----------------------------------------------------


def _refuse(message: str) -> BackupError:
    return BackupError(f"Sauvegarde refusée : {message} Rien n'a été importé.")


def _member_path(member: tarfile.TarInfo, known_tables: dict[str, Table]) -> str:
    """The member's name once it is known to be a plain file at a path a backup holds."""
    name = member.name
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in parts):
        raise _refuse(f"l'élément « {name} » a un chemin dangereux (absolu ou hors du dossier).")
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        raise _refuse(f"l'élément « {name} » n'est pas un fichier ordinaire (lien, dossier ou périphérique).")
    table = TABLE_MEMBER.fullmatch(name)
    if name in (MANIFEST, SECRET_KEY, GLOSSARY) or MEDIA_MEMBER.fullmatch(name) or (
            table and table["table"] in known_tables):
        return name
    raise _refuse(f"l'élément « {name} » n'a pas sa place dans une sauvegarde de Parole.")


def _read_member(stream: IO[bytes], table: Table | None, name: str,
                 media_needed: dict[str, str]) -> tuple[Member, int]:
    """Size and sha256 of a member read to its end; for a table, also its rows, each parsed and decoded.

    The media files episodes refer to are noted in ``media_needed`` (archive name → episode slug).
    """
    digest, size, count = hashlib.sha256(), 0, 0
    if table is None:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    else:
        for line in stream:
            digest.update(line)
            size += len(line)
            if line.strip():
                count += 1
                row = _parse_row(table, line, f"{name}, ligne {count}")
                if table.name == Episode.__tablename__:
                    media_needed.update(_episode_media(row, f"{name}, ligne {count}"))
    return Member(name, size, digest.hexdigest()), count


def _episode_media(row: dict[str, Any], where: str) -> dict[str, str]:
    """The archive names of an episode row's audio and podcast MP3."""
    try:
        wanted = [(row["audio_sha256"], row["audio_ext"])]
        if row.get("podcast_sha256"):
            wanted.append((row["podcast_sha256"], "mp3"))
        return {media_path(Path("media"), sha256, extension).as_posix(): str(row.get("slug", "?"))
                for sha256, extension in wanted}
    except (KeyError, ValueError, TypeError) as error:
        raise _refuse(f"{where} : l'épisode n'a pas d'empreinte audio valide.") from error


def _manifest_fields(data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except ValueError as error:
        raise _refuse("manifest.json n'est pas du JSON valide.") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise _refuse("ce fichier n'est pas une sauvegarde de Parole (manifest.json d'un autre format).")
    version = manifest.get("version")
    if version != FORMAT_VERSION:
        raise _refuse(f"sauvegarde au format version {version!r}, inconnu de cette version de Parole "
                      f"(elle lit la version {FORMAT_VERSION}) ; mettez Parole à jour.")
    files, table_rows = manifest.get("files"), manifest.get("tables")
    well_formed = (
        isinstance(files, list) and isinstance(table_rows, list)
        and all(isinstance(entry, dict) and isinstance(entry.get("path"), str) and isinstance(entry.get("size"), int)
                and isinstance(entry.get("sha256"), str) for entry in files)
        and all(isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("rows"), int)
                for entry in table_rows))
    if not well_formed:
        raise _refuse("manifest.json est incomplet (liste des fichiers ou des tables illisible).")
    return manifest


def check_backup(source: Path) -> CheckedBackup:
    """Read the whole file once, writing nothing: BackupError (French) at the first problem found."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"Fichier introuvable : « {source} ».")
    known_tables = {table.name: table for table in tables()}
    found: dict[str, Member] = {}
    rows: dict[str, int] = {}
    media_needed: dict[str, str] = {}
    manifest_data: bytes | None = None
    try:
        with tarfile.open(source, "r:*") as tar:
            for member in tar:
                name = _member_path(member, known_tables)
                if name in found or (name == MANIFEST and manifest_data is not None):
                    raise _refuse(f"l'élément « {name} » y figure deux fois.")
                stream = tar.extractfile(member)
                if name == MANIFEST:
                    if member.size > MANIFEST_LIMIT:
                        raise _refuse("manifest.json est anormalement gros.")
                    manifest_data = stream.read()
                    continue
                if name == GLOSSARY and member.size > GLOSSARY_LIMIT:
                    raise _refuse(f"{GLOSSARY} (le glossaire des producteurs) est anormalement gros.")
                table = TABLE_MEMBER.fullmatch(name)
                found[name], count = _read_member(stream, known_tables[table["table"]] if table else None, name,
                                                  media_needed)
                if table:
                    rows[table["table"]] = count
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise _refuse(f"le fichier est tronqué ou n'est pas une archive tar lisible ({error}).") from error
    if manifest_data is None:
        raise _refuse("manifest.json manque : ce fichier n'est pas une sauvegarde de Parole complète.")
    manifest = _manifest_fields(manifest_data)
    checked = _matched(manifest, found, rows, known_tables)
    absent = sorted(set(media_needed) - set(checked.files))
    if absent:
        raise _refuse(f"{absent[0]}, le média de l'épisode « {media_needed[absent[0]]} », n'y figure pas.")
    return checked


def _matched(manifest: dict, found: dict[str, Member], rows: dict[str, int],
             known_tables: dict[str, Table]) -> CheckedBackup:
    """The manifest and what the file holds agree on every file, size, sha256 and row count."""
    listed = {entry["path"]: Member(entry["path"], entry["size"], entry["sha256"]) for entry in manifest["files"]}
    missing, unlisted = sorted(set(listed) - set(found)), sorted(set(found) - set(listed))
    if missing:
        raise _refuse(f"{missing[0]} manque (le fichier est sans doute tronqué).")
    if unlisted:
        raise _refuse(f"l'élément « {unlisted[0]} » n'est pas dans le manifeste.")
    for path, member in sorted(found.items()):
        expected = listed[path]
        if (member.size, member.sha256) != (expected.size, expected.sha256):
            raise _refuse(f"{path} est abîmé (taille ou empreinte sha256 différente de celle du manifeste).")
        media = MEDIA_MEMBER.fullmatch(path)
        if media and media["sha256"] != member.sha256:
            raise _refuse(f"{path} ne correspond pas à l'empreinte qui le nomme.")
    declared = {entry["name"]: entry["rows"] for entry in manifest["tables"]}
    for name in sorted(set(declared) | set(rows)):
        if name not in known_tables:
            raise _refuse(f"table « {name} » inconnue de cette version de Parole ; mettez Parole à jour.")
        if declared.get(name) != rows.get(name):
            raise _refuse(f"la table « {name} » n'a pas le nombre de lignes annoncé par le manifeste.")
    return CheckedBackup(str(manifest.get("created_at", "")), str(manifest.get("parole_version", "")), rows, found)


# -- import ---------------------------------------------------------------------------------


def _existing_rows(settings: Settings) -> dict[str, int]:
    """Rows already in the target's tables (none when it has no database yet); creates nothing in that case."""
    if not database_exists(settings):
        return {}
    database = Database(settings)
    try:
        with database.engine.connect() as connection:
            counts = {}
            for table in tables():
                if connection.scalar(select(literal(1)).select_from(table).limit(1)) is not None:
                    counts[table.name] = connection.scalar(select(func.count()).select_from(table))
            return counts
    finally:
        database.dispose()


def import_archive(settings: Settings, source: Path, on_progress: Progress | None = None) -> ImportSummary:
    """Restore a backup into an empty data folder and rebuild the index; all or nothing."""
    from archive.store import Archive

    checked = check_backup(source)
    existing = _existing_rows(settings)
    if existing:
        episodes = existing.get(Episode.__tablename__, 0)
        held = f"{episodes} épisode{'s' if episodes > 1 else ''}" if episodes else "des données"
        raise BackupError(f"Le dossier de données « {settings.data_dir} » contient déjà une archive ({held}) : "
                          "importez dans un dossier vide (PAROLE_DATA_DIR). Rien n'a été importé.")
    archive = Archive(settings)
    undo: list[Callable[[], None]] = []
    try:
        with tarfile.open(source, "r:*") as tar, archive.db.engine.begin() as connection:
            members = {member.name: member for member in tar.getmembers()}
            _restore_rows(connection, tar, members, checked)
            _restore_media(tar, members, checked, settings.media_dir, undo, on_progress)
            undo.append(archive.reindex)  # after the rollback: an index of the (empty) store again
            with Session(bind=connection) as session:
                ids = session.scalars(select(Episode.id).order_by(Episode.id)).all()
                documents = archive.index.rebuild(archive.load_episode(session, episode_id) for episode_id in ids)
            if checked.has_secret_key:
                _restore_secret_key(tar.extractfile(members[SECRET_KEY]), checked.files[SECRET_KEY],
                                    Path(settings.data_dir), undo)
            if checked.has_glossary:
                _restore_glossary(tar.extractfile(members[GLOSSARY]), checked.files[GLOSSARY],
                                  settings.glossary_path, undo)
    except BaseException as error:
        for step in reversed(undo):
            with suppress(Exception):
                step()
        if isinstance(error, (tarfile.TarError, EOFError, zlib.error)):
            raise _refuse(f"le fichier a changé ou s'est abîmé pendant l'import ({error}).") from error
        if isinstance(error, OSError):
            raise BackupError(f"Import interrompu : {error.strerror or error} ({error.filename or source}). "
                              "Le dossier de données est resté vide.") from error
        if isinstance(error, SQLAlchemyError):
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise BackupError(f"Import interrompu : la base de données a refusé une ligne ({reason}). "
                              "Le dossier de données est resté vide.") from error
        raise
    finally:
        archive.close()
    return ImportSummary(checked.rows, len(checked.media), documents)


def _verified_stream(stream: IO[bytes], expected: Member) -> Iterator[bytes]:
    """Chunks of a member, checked once more against the manifest (the file may have changed since the check)."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    if (size, digest.hexdigest()) != (expected.size, expected.sha256):
        raise _refuse(f"{expected.path} a changé depuis sa vérification.")


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        yield pending


def _restore_rows(connection: Connection, tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo],
                  checked: CheckedBackup) -> None:
    """Rows inserted with their ids, parents first; PostgreSQL's id sequences then continue after them."""
    for table in tables():
        name = f"db/{table.name}.jsonl"
        if name not in checked.files:
            continue
        statement, batch = _insert_statement(table), []
        chunks = _verified_stream(tar.extractfile(members[name]), checked.files[name])
        for number, line in enumerate(_lines(chunks), start=1):
            if line.strip():
                batch.append(_parse_row(table, line, f"{name}, ligne {number}"))
            if len(batch) >= INSERT_BATCH:
                connection.execute(statement, batch)
                batch = []
        if batch:
            connection.execute(statement, batch)
    if connection.dialect.name == "postgresql":
        _continue_sequences(connection)


def _insert_statement(table: Table) -> Insert:
    """An INSERT where a JSON column's None is SQL NULL (what ``IS NULL`` finds), not the JSON text "null"."""
    as_null = {column.name: bindparam(column.name, type_=JSON(none_as_null=True))
               for column in table.columns if isinstance(_storage_type(column), JSON)}
    return table.insert().values(as_null) if as_null else table.insert()


def _continue_sequences(connection: Connection) -> None:
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        key = keys[0]
        following = select(func.coalesce(func.max(key), 0) + 1).scalar_subquery()
        sequence = func.pg_get_serial_sequence(table.name, key.name)
        connection.execute(select(func.setval(sequence, following, False)).where(sequence.is_not(None)))


def _restore_media(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], checked: CheckedBackup,
                   media_dir: Path, undo: list[Callable[[], None]], on_progress: Progress | None) -> None:
    """Each file written under a temporary name, flushed to disk, then renamed (as archive.media does)."""
    total, done = sum(member.size for member in checked.media), 0
    for member in checked.media:
        target = media_dir / Path(member.path).relative_to("media")
        target.parent.mkdir(parents=True, exist_ok=True)
        created = not target.exists()
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with temporary.open("wb") as out:
                for chunk in _verified_stream(tar.extractfile(members[member.path]), member):
                    out.write(chunk)
                    done += len(chunk)
                    if on_progress is not None:
                        on_progress(done, total)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        if created:
            undo.append(lambda path=target: remove_media(path))


def _restore_secret_key(stream: IO[bytes], expected: Member, data_dir: Path, undo: list[Callable[[], None]]) -> None:
    """The studio's key, readable by its owner only; the one it replaces comes back if the import fails."""
    target = data_dir / SECRET_KEY
    previous = target.read_bytes() if target.is_file() else None
    key = b"".join(_verified_stream(stream, expected))
    temporary = data_dir / f".{SECRET_KEY}.{os.getpid()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, target)
    undo.append(lambda: target.write_bytes(previous) if previous is not None else target.unlink(missing_ok=True))


def _replace_file(target: Path, data: bytes) -> None:
    """``data`` written beside ``target``, flushed to disk, then renamed over it: never half a file."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    with suppress(OSError):  # the rename itself survives a power cut once the folder is synced (POSIX)
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _restore_glossary(stream: IO[bytes], expected: Member, target: Path, undo: list[Callable[[], None]]) -> None:
    """The producers' glossary, at the target's ``glossary_path``; the file it replaces comes back if the import fails.

    Written as the studio writes it (temporary file, fsync, rename), byte for byte as it was exported.
    """
    previous = target.read_bytes() if target.is_file() else None
    glossary = b"".join(_verified_stream(stream, expected))
    target.parent.mkdir(parents=True, exist_ok=True)
    _replace_file(target, glossary)
    undo.append(lambda: _replace_file(target, previous) if previous is not None else target.unlink(missing_ok=True))
