"""A transcription killed mid-way resumes after its last finished chunk instead of starting again.

The interview is cut into 20 s chunks for the test (``PAROLE_TRANSCRIPTION_CHUNK_SECONDS``; five
minutes by default). ``parole ingest`` is killed with SIGKILL once the first chunk is on disk; run
again, it says it resumed, keeps the finished chunk untouched, and stores the whole episode.
The one-hour version is ``bench/long_episode.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import select

from archive.models import Utterance
from archive.store import Archive
from tests.helpers import REPO, parole_env, run_parole, settings_for

CHUNK_SECONDS = "20"


def test_a_killed_transcription_resumes_after_its_last_finished_chunk(fresh_data, interview):
    wav, synthesis = interview
    settings = settings_for(fresh_data)
    work = settings.transcription_work_dir
    command = [sys.executable, "-m", "parole", "ingest", str(wav), "--title", "Reprise"]
    env = parole_env(fresh_data, PAROLE_TRANSCRIPTION_CHUNK_SECONDS=CHUNK_SECONDS)
    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + 300
    finished: list = []
    while first.poll() is None and time.monotonic() < deadline and not finished:
        finished = list(work.glob("*/morceau-0000.json")) if work.is_dir() else []
        time.sleep(0.1)
    assert finished, "le premier morceau n'a jamais été écrit"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    kept = {path.name: path.stat().st_mtime_ns for path in work.glob("*/morceau-*.json")}
    assert kept and "morceau-0000.json" in kept

    archive = Archive(settings)
    try:
        with archive.db.session() as session:
            assert session.scalars(select(Utterance.id)).first() is None  # nothing half-stored
    finally:
        archive.close()

    second = run_parole(fresh_data, "ingest", str(wav), "--title", "Reprise",
                        PAROLE_TRANSCRIPTION_CHUNK_SECONDS=CHUNK_SECONDS)
    assert second.returncode == 0, second.stderr
    resumed = f"reprise après le morceau {len(kept)} sur"
    said = " ".join((second.stdout + second.stderr).split())  # the console wraps long lines
    assert resumed in said, said
    assert "Épisode enregistré" in said
    assert not any(work.glob("*/morceau-*.json")), "les morceaux d'une transcription finie restent sur le disque"

    archive = Archive(settings)
    try:
        with archive.db.session() as session:
            spans = session.execute(select(Utterance.start, Utterance.end)).all()
    finally:
        archive.close()
    assert min(start for start, _ in spans) < synthesis.turns[0].end
    assert max(end for _, end in spans) > synthesis.turns[-1].start
