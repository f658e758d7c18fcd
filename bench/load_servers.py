"""Servers for bench/load.py: start one on loopback, wait until it answers, stop it, sample its memory."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    log: Path


@contextmanager
def running(command: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[Server]:
    """A server in its own process group, its output in a file (a full pipe would stall it under load)."""
    base_url = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Server(process, base_url, log)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        _stop(process)


def _wait_until_ready(server: Server, seconds: float = 180) -> None:
    """The first start may rebuild the search index, hence the long wait."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"Le serveur s'est arrêté au démarrage :\n{tail(server.log)}")
        try:
            if httpx.get(server.base_url + "/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"Le serveur n'a pas répondu en {seconds:.0f} s :\n{tail(server.log)}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group is this server's own (start_new_session)
        process.wait()


def tail(log: Path, lines: int = 20) -> str:
    """The end of a server's output: what it said before it failed."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


class PeakMemory:
    """The largest resident memory of a process and all its descendants, sampled every half second."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, tree_rss(self.pid))


def tree_rss(root: int) -> int:
    """Bytes resident for ``root`` and its descendants, from /proc (uvicorn workers are child processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family, total, grown = {root}, 0, True
    while grown:
        grown = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                grown = True
    for pid in family:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(found.group(1)) * 1024 if found else 0
    return total
