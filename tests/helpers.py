"""Small tools the tests share: run the real CLI, start the real server, start PostgreSQL, make audio."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from archive.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SHARED_TESTDATA = REPO.parent / "shared" / "testdata"

# A data folder and its database go together (the index and media there derive from that database):
# every command and server a test starts on a folder bound here gets the folder's PAROLE_DATABASE_URL.
_DATABASE_OF_FOLDER: dict[Path, str] = {}


def use_database(data_dir: Path, database_url: str | None) -> None:
    """Bind a data folder to a database (None: SQLite in the folder, the default)."""
    if database_url:
        _DATABASE_OF_FOLDER[data_dir.resolve()] = database_url


def database_of(data_dir: Path) -> str | None:
    return _DATABASE_OF_FOLDER.get(data_dir.resolve())


def settings_for(data_dir: Path, **options) -> Settings:
    """The settings a command run on this folder reads, for tests that open the archive in-process."""
    return Settings(data_dir=data_dir, database_url=database_of(data_dir), **options)


def parole_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PAROLE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("PAROLE_DATABASE_URL", None)  # the folder decides, not whoever launched the tests
    if database_url := database_of(data_dir):
        env["PAROLE_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_parole(data_dir: Path, *args: str, timeout: float = 600, **extra_env: str) -> subprocess.CompletedProcess:
    """``parole ARGS`` in a real subprocess, as a producer would type it."""
    return subprocess.run(
        [sys.executable, "-m", "parole", *args], cwd=REPO, env=parole_env(data_dir, **extra_env),
        capture_output=True, text=True, timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(data_dir: Path, *options: str, **extra_env: str) -> Server:
    """``parole serve [OPTIONS]`` on a free local port, waiting until it answers."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = parole_env(data_dir, PAROLE_BASE_URL=base_url, **extra_env)
    process = subprocess.Popen([sys.executable, "-m", "parole", "serve", "--port", str(port), *options], cwd=REPO,
                               env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"le serveur s'est arrêté : {process.stderr.read()}")
        try:
            if httpx.get(base_url + "/", timeout=1).status_code == 200:
                return Server(process, base_url)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("le serveur n'a pas répondu en 30 s")


def write_wav(path: Path, samples: np.ndarray, rate: int = 16_000) -> Path:
    """Mono 16-bit WAV from float samples in [-1, 1]."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def encode_mp3(source: Path, target: Path) -> Path:
    """MP3 through the ffmpeg binary that the imageio-ffmpeg package ships."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(source),
                    "-codec:a", "libmp3lame", "-b:a", "64k", str(target)], check=True)
    return target


def postgresql_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                   if p.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else None


@dataclass
class PostgreSQLServer:
    """A private PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1, for one test session.

    PostgreSQL refuses to run as root: when the tests run as root (containers, CI), its
    programs run as the ``postgres`` system user, which owns the folder.
    """

    binaries: Path
    folder: Path
    port: int
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls, binaries: Path) -> PostgreSQLServer:
        folder = Path(tempfile.mkdtemp(prefix="parole-postgresql-"))
        server = cls(binaries, folder, free_port())
        try:
            if os.geteuid() == 0:
                shutil.chown(folder, "postgres", "postgres")
            server._run("initdb", "--pgdata", str(folder / "data"), "--username", "parole", "--auth", "trust",
                        "--encoding", "UTF8", "--locale", "C.UTF-8", "--no-sync")
            settings = (f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            server._run("pg_ctl", "--pgdata", str(folder / "data"), "--log", str(folder / "server.log"),
                        "--options", settings, "--wait", "--timeout", "60", "start")
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.binaries / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} a échoué : {result.stderr.strip()} {tail}")

    def url(self, database: str) -> str:
        return f"postgresql://parole@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database; returns its URL (as a user would write it: postgresql://…)."""
        import psycopg

        name = f"parole_{next(self._names)}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user="parole", dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            if (self.folder / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "--pgdata", str(self.folder / "data"), "--mode", "immediate", "--wait", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
