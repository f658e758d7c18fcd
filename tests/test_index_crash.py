"""A writer killed in the middle of a commit never loses what was committed before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from whoosh.query import Term

from archive.index import SearchIndex
from tests.helpers import REPO

WRITER = """
import sys
from pathlib import Path
from archive.index import SearchIndex

root, markers = Path(sys.argv[1]), Path(sys.argv[2])
index = SearchIndex(root)

def batch(name, count):
    writer = index.open().writer(timeout=30)
    for number in range(count):
        writer.add_document(doc_id=f"{name}-{number}", kind="utterance", episode_id=name,
                            text=f"phrase numéro {number} du lot {name} sur la participation citoyenne",
                            start_ms=number)
    (markers / f"{name}.committing").write_text("")
    writer.commit()
    (markers / f"{name}.committed").write_text("")

batch("premier", 300)
batch("second", 40000)
"""


def wait_for(path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


def count(index: SearchIndex, episode: str) -> int:
    searcher = index.open().searcher()
    try:
        return len(searcher.search(Term("episode_id", episode), limit=None))
    finally:
        searcher.close()


def test_kill_during_commit_keeps_every_committed_document(tmp_path):
    root, markers = tmp_path / "index", tmp_path / "markers"
    markers.mkdir()
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(markers)], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        wait_for(markers / "second.committing")
        time.sleep(0.3)  # well inside the commit of 40,000 documents
        assert not (markers / "second.committed").exists(), "the commit finished before the kill: make it larger"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()

    index = SearchIndex(root)
    assert count(index, "premier") == 300
    assert count(index, "second") in (0, 40000)
    # The index stays writable: the next writer gets the lock and its documents are found.
    writer = index.open().writer(timeout=5)
    writer.add_document(doc_id="apres-1", kind="utterance", episode_id="apres", text="après la panne", start_ms=0)
    writer.commit()
    assert count(index, "apres") == 1 and count(index, "premier") == 300
