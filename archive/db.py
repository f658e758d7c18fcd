"""Database engine and sessions: SQLite in the data folder by default, PostgreSQL (or any SQLAlchemy URL) otherwise.

Opening a database brings its schema to the newest migration (archive/migrations), so
every process works on the schema its code expects.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from archive.migrations.upgrade import upgrade_to_head
from archive.settings import Settings

CONNECT_TIMEOUT_SECONDS = 10


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened; the message (French, one line) says which one and why."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the site read while an ingest writes; foreign keys keep cascades honest.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable("PAROLE_DATABASE_URL n'est pas une adresse de base de données valide "
                                  "(exemple : postgresql://utilisateur:motdepasse@hôte/base).") from None


def _create_engine(url: URL) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            # As many connections as the web server's 40 request threads: an SQLite connection costs little,
            # and a request waiting for one holds its thread the whole time.
            engine = create_engine(url, pool_size=20, max_overflow=20)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        if url.get_backend_name() == "postgresql":
            # A vanished server is noticed at once rather than after the OS gives up; stale pooled
            # connections (after a server restart) are replaced instead of failing a request.
            return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
        return create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError):
        raise DatabaseUnavailable(f"Type de base de données non pris en charge : « {url.drivername} » "
                                  "(SQLite ou PostgreSQL).") from None


def where(url: URL) -> str:
    """The database as people name it in a message: a file, or a server and database (never the password)."""
    if url.get_backend_name() == "sqlite":
        return f"le fichier {url.database}"
    server = f"{url.host or 'localhost'}:{url.port or 5432}" if url.get_backend_name() == "postgresql" else url.host
    return f"le serveur {server} (base « {url.database} », utilisateur « {url.username} »)"


def _reason(error: OperationalError) -> str:
    """The driver's reason in French for the usual cases; its own words (first line) otherwise."""
    message = str(error.orig or error)
    lowered = message.lower()
    reasons = [("connection refused", "connexion refusée (serveur arrêté ou mauvais port)"),
               ("could not translate host name", "nom d'hôte inconnu"),
               ("name or service not known", "nom d'hôte inconnu"),
               ("timeout expired", f"pas de réponse en {CONNECT_TIMEOUT_SECONDS} s"),
               ("password authentication failed", "utilisateur ou mot de passe refusé"),
               ("no password supplied", "mot de passe manquant"),
               ("does not exist", "cette base ou cet utilisateur n'existe pas sur le serveur"),
               ("unable to open database file", "fichier impossible à ouvrir (dossier absent ou droits)")]
    for clue, reason in reasons:
        if clue in lowered:
            return reason
    return next((line.strip() for line in message.splitlines() if line.strip()), "raison inconnue")


class Database:
    def __init__(self, settings: Settings) -> None:
        url = _parse(settings.resolved_database_url)
        if url.get_backend_name() == "sqlite":
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = _create_engine(url)
        try:
            with self.engine.connect():
                pass
        except OperationalError as error:
            self.engine.dispose()
            setting = "PAROLE_DATABASE_URL" if settings.database_url else "PAROLE_DATA_DIR"
            raise DatabaseUnavailable(f"Base de données injoignable sur {where(url)} : {_reason(error)}. "
                                      f"Vérifiez {setting}.") from None
        upgrade_to_head(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (or a write one: the caller commits)."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
