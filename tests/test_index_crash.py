"""A writer killed in the middle of a commit never loses what was committed before (both engines)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.tantivy_index import TantivyIndex
from archive.whoosh_index import WhooshIndex
from tests.helpers import REPO

ENGINES = {"whoosh": WhooshIndex, "tantivy": TantivyIndex}

# Each script commits 300 documents, then starts committing a batch big enough to be killed in the middle.
WRITERS = {
    "whoosh": """
import sys
from pathlib import Path
from archive.whoosh_index import WhooshIndex

root, markers = Path(sys.argv[1]), Path(sys.argv[2])
index = WhooshIndex(root)

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
""",
    "tantivy": """
import sys
from pathlib import Path
import tantivy
from archive.tantivy_index import TantivyIndex

root, markers = Path(sys.argv[1]), Path(sys.argv[2])
index = TantivyIndex(root)
words = " ".join(f"mot{number}" for number in range(300))

def batch(name, count):
    writer = index.open().writer(heap_size=800_000_000, num_threads=1)
    for number in range(count):
        document = tantivy.Document()
        document.add_text("kind", "utterance")
        document.add_text("episode_id", name)
        document.add_text("text", f"particip n{number} " + words)
        document.add_bytes("meta", b"{}")
        writer.add_document(document)
    (markers / f"{name}.committing").write_text("")
    writer.commit()
    (markers / f"{name}.committed").write_text("")
    writer.wait_merging_threads()

batch("premier", 300)
batch("second", 40000)
""",
}


def wait_for(path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_kill_during_commit_keeps_every_committed_document(tmp_path, engine):
    root, markers = tmp_path / "index", tmp_path / "markers"
    markers.mkdir()
    child = subprocess.Popen([sys.executable, "-c", WRITERS[engine], str(root), str(markers)], cwd=REPO,
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

    index = ENGINES[engine](root)
    assert index.document_count(episode_id="premier") == 300
    assert index.document_count(episode_id="second") in (0, 40000)
    # The index stays writable: the next writer gets the lock and its documents are found.
    index.replace_documents("apres", [{"doc_id": "apres-1", "kind": "utterance", "episode_id": "apres",
                                       "text": "après la panne", "start_ms": 0, "end_ms": 1000}])
    assert index.document_count(episode_id="apres") == 1
    assert index.document_count(episode_id="premier") == 300
