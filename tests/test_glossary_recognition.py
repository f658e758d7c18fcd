"""The glossary makes the recogniser write a guest's town and an acronym right.

A passage is spoken by espeak-ng the way a person says it ("Kingersheim" sounds like
« Kinnguerr saïme »); the episode is ingested twice, in two archives: once bare, once with the
guest named at upload (« maire de Kingersheim ») and CNFPT in the producers' glossary.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive.models import Utterance
from archive.records import EpisodeMeta, Guest
from archive.store import Archive
from ingest.glossary import add_terms
from ingest.pipeline import ingest_file
from ingest.synth import Turn, synthesize
from tests.helpers import settings_for

SPOKEN_NAME = "Kinnguerr saïme"
PASSAGE = [
    Turn("narrator", f"Bonjour, nous sommes à {SPOKEN_NAME}, avec Jo Spiguel, le maire de {SPOKEN_NAME}."),
    Turn("narrator", "Merci. Avec le CNFPT, nous avons formé les agents de la commune."),
    Turn("narrator", f"Le CNFPT forme aussi les élus de {SPOKEN_NAME}."),
]
EXPECTED = {"Kingersheim": 3, "CNFPT": 2, "Jo Spiegel": 1}


@pytest.fixture(scope="module")
def passage(tmp_path_factory):
    return synthesize(PASSAGE).write_wav(tmp_path_factory.mktemp("glossaire") / "passage.wav")


def transcript(data_dir, wav, meta: EpisodeMeta) -> str:
    settings = settings_for(data_dir)
    archive = Archive(settings)
    try:
        ingest_file(wav, meta, archive, settings)
        with archive.db.session() as session:
            return " ".join(session.scalars(select(Utterance.text).order_by(Utterance.position)))
    finally:
        archive.close()


def counts(text: str) -> dict[str, int]:
    return {term: text.count(term) for term in EXPECTED}


def test_glossary_names_are_written_right_with_the_glossary_and_counted_without(passage, tmp_path_factory,
                                                                                 model_cache):
    from tests.conftest import make_data_dir

    bare = transcript(make_data_dir(tmp_path_factory, model_cache, "sans"), passage, EpisodeMeta("Sans glossaire"))

    guided_dir = make_data_dir(tmp_path_factory, model_cache, "avec")
    add_terms(settings_for(guided_dir), ["CNFPT"])
    guest = Guest("Jo Spiegel", "maire de Kingersheim")
    guided = transcript(guided_dir, passage, EpisodeMeta("Avec glossaire", guests=(guest,)))

    print(f"sans glossaire : {counts(bare)} ; avec : {counts(guided)} ; attendu : {EXPECTED}")
    print("sans :", bare)
    print("avec :", guided)
    assert counts(guided) == EXPECTED
    assert sum(counts(bare).values()) < sum(EXPECTED.values())
    assert counts(bare)["Kingersheim"] == 0
