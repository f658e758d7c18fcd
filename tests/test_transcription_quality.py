"""Real French voices (FLEURS clips with human transcripts) through the real CLI."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from archive.db import Database
from archive.models import Utterance
from archive.settings import Settings
from ingest.evaluation import normalise, word_error_rate
from tests.helpers import SHARED_TESTDATA, run_parole, write_wav

FLEURS = SHARED_TESTDATA / "fleurs-fr"


def test_normalisation_spells_numbers_and_drops_punctuation():
    assert normalise("L'accident, en 2019 : 3 blessés !") == "l accident en deux mille dix neuf trois blessés"


@pytest.mark.skipif(not FLEURS.is_dir(), reason=f"{FLEURS} absent : clips FLEURS non disponibles sur cette machine")
def test_fleurs_clips_word_error_rate(fresh_data, tmp_path):
    from faster_whisper.audio import decode_audio

    clips = sorted(FLEURS.glob("fleurs-fr-*.ogg"))
    assert len(clips) >= 5
    silence = np.zeros(16_000, dtype=np.float32)
    pieces, references = [], []
    for clip in clips:
        pieces += [decode_audio(str(clip), sampling_rate=16_000), silence]
        references.append(clip.with_suffix(".txt").read_text(encoding="utf-8").strip())
    joined = write_wav(tmp_path / "fleurs.wav", np.concatenate(pieces))

    result = run_parole(fresh_data, "ingest", str(joined), "--title", "FLEURS", "--date", "2026-01-01")
    assert result.returncode == 0, result.stderr

    database = Database(Settings(data_dir=fresh_data))
    with database.session() as session:
        hypothesis = " ".join(session.scalars(select(Utterance.text).order_by(Utterance.position)))
    database.dispose()
    wer = word_error_rate(" ".join(references), hypothesis)
    print(f"FLEURS WER: {wer:.3f} over {len(clips)} clips")
    assert wer <= 0.28  # the target for the default settings (bench/asr.py)
