"""Relevance: French queries over a small archive with known answers; each expected passage is in the top 3.

Every test runs on both search engines: they must answer alike.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from archive.records import Chapter, EpisodeMeta, SourceAudio, Utterance, Voice
from archive.search import SearchRequest, search
from archive.settings import Settings
from archive.store import Archive
from ingest.audio import file_sha256
from tests.helpers import write_wav

PEOPLE = {
    "SPEAKER_1": ("Camila Masetti", "experte en contenus digitaux", "Agence numérique du Grand Est"),
    "SPEAKER_2": ("Jo Spiegel", "maire de Kingersheim", "Ville de Kingersheim"),
    "SPEAKER_3": ("Francis Ginsbourger", "économiste, écrivain", ""),
    "SPEAKER_4": ("Nadia Benali", "directrice des ressources humaines", "Département du Nord"),
    "SPEAKER_5": ("Paul Girard", "policier municipal", "Ville de Roubaix"),
}

# (title, date, [(chapter title, [(speaker, sentence), …]), …])
EPISODES = [
    ("La démocratie participative à Kingersheim", dt.date(2023, 4, 12), [
        ("Les conseils participatifs", [
            ("SPEAKER_1", "Comment associez-vous les habitants aux décisions de la commune ?"),
            ("SPEAKER_2", "Nous avons créé des conseils participatifs où les habitants délibèrent avec les élus."),
            ("SPEAKER_2", "La participation citoyenne demande du temps et beaucoup de patience."),
            ("SPEAKER_2", "Chaque conseil de quartier reçoit une enveloppe pour ses propres projets."),
        ]),
        ("Le budget participatif", [
            ("SPEAKER_1", "Parlons du budget participatif de la ville."),
            ("SPEAKER_2", "Les budgets participatifs financent des aires de jeux et des jardins partagés."),
            ("SPEAKER_2", "La délibération du conseil municipal confirme ensuite les projets retenus."),
        ]),
    ]),
    ("Recruter dans les collectivités", dt.date(2024, 2, 8), [
        ("Les difficultés de recrutement", [
            ("SPEAKER_1", "Les collectivités territoriales peinent-elles à recruter ?"),
            ("SPEAKER_4", "Nous recevons très peu de candidatures pour les postes d'ingénieur."),
            ("SPEAKER_4", "Le jury de recrutement reçoit les candidats au printemps."),
        ]),
        ("L'apprentissage", [
            ("SPEAKER_4", "Nos apprentis en espaces verts deviennent souvent des agents titulaires."),
            ("SPEAKER_4", "Un tuteur accompagne chaque apprenti pendant deux ans."),
        ]),
    ]),
    ("Le budget d'une commune", dt.date(2024, 10, 3), [
        ("Voter le budget", [
            ("SPEAKER_1", "Comment se prépare le budget primitif ?"),
            ("SPEAKER_3", "Le vote du budget a lieu en mars après le débat d'orientation budgétaire."),
            ("SPEAKER_3", "Les dotations de l'État ont baissé pendant dix ans."),
            ("SPEAKER_2", "À Kingersheim, le budget est présenté aux habitants avant le vote des élus."),
        ]),
        ("La dette", [
            ("SPEAKER_3", "L'endettement des communes reste raisonnable en France."),
            ("SPEAKER_3", "Emprunter pour investir dans les écoles est une bonne décision."),
        ]),
    ]),
    ("La sécurité au quotidien", dt.date(2025, 6, 20), [
        ("La police municipale", [
            ("SPEAKER_1", "Quel est le rôle de la police municipale ?"),
            ("SPEAKER_5", "La police municipale patrouille à vélo dans le centre-ville."),
            ("SPEAKER_5", "Nous travaillons avec la gendarmerie sur la sécurité routière près des écoles."),
        ]),
        ("La prévention", [
            ("SPEAKER_5", "La médiation de nuit apaise beaucoup de conflits de voisinage."),
            ("SPEAKER_5", "Les caméras de vidéoprotection ne remplacent pas la présence humaine."),
        ]),
    ]),
    ("Culture et santé dans les territoires", dt.date(2026, 1, 15), [
        ("La médiathèque", [
            ("SPEAKER_1", "Que propose votre médiathèque intercommunale ?"),
            ("SPEAKER_3", "La médiathèque prête des livres, des jeux et même des outils de bricolage."),
            ("SPEAKER_3", "Le festival d'été attire des familles de tout le département."),
        ]),
        ("La maison de santé", [
            ("SPEAKER_4", "La maison de santé pluridisciplinaire a fait revenir trois médecins."),
            ("SPEAKER_4", "Les déserts médicaux touchent d'abord les petites communes rurales."),
        ]),
    ]),
    ("Le vélo et l'environnement", dt.date(2026, 9, 2), [
        ("Les pistes cyclables", [
            ("SPEAKER_1", "Votre ville développe-t-elle les pistes cyclables ?"),
            ("SPEAKER_2", "Nous avons tracé vingt kilomètres d'aménagements cyclables en trois ans."),
            ("SPEAKER_2", "Le réseau de chaleur chauffe maintenant la piscine et le collège."),
        ]),
        ("Les économies d'énergie", [
            ("SPEAKER_5", "L'éclairage public s'éteint à minuit pour économiser l'énergie."),
            ("SPEAKER_5", "Les bâtiments communaux ont été isolés grâce aux subventions."),
        ]),
    ]),
]

# (query, filters, expected episode title, words of the expected passage)
QUERIES = [
    ("collectivite", {}, "Recruter dans les collectivités", "peinent-elles"),
    ("elus", {}, "La démocratie participative à Kingersheim", "délibèrent avec les élus"),
    ("deliberation", {}, "La démocratie participative à Kingersheim", "délibération du conseil"),
    ("reseau de chaleur", {}, "Le vélo et l'environnement", "réseau de chaleur"),
    ("apprenti", {}, "Recruter dans les collectivités", "Nos apprentis"),
    ("budgets participatifs", {}, "La démocratie participative à Kingersheim", "financent des aires de jeux"),
    ("ecole", {}, "Le budget d'une commune", "investir dans les écoles"),
    ("mediatheque", {}, "Culture et santé dans les territoires", "prête des livres"),
    ('"conseil de quartier"', {}, "La démocratie participative à Kingersheim", "enveloppe"),
    ('"maison de santé"', {}, "Culture et santé dans les territoires", "trois médecins"),
    ('"police municipale" vélo', {}, "La sécurité au quotidien", "patrouille à vélo"),
    ("Kingersheim budget", {}, "Le budget d'une commune", "présenté aux habitants"),
    ("participation citoyenne", {}, "La démocratie participative à Kingersheim", "demande du temps"),
    ("Spiegel participation", {}, "La démocratie participative à Kingersheim", "demande du temps"),
    ("maire habitants", {}, "Le budget d'une commune", "présenté aux habitants"),
    ("kingersim budget", {}, "Le budget d'une commune", "présenté aux habitants"),
    ("partisipation", {}, "La démocratie participative à Kingersheim", "demande du temps"),
    ("recrutemnt jury", {}, "Recruter dans les collectivités", "jury de recrutement"),
    ("mediatheqe", {}, "Culture et santé dans les territoires", "prête des livres"),
    ("budget", {"personne": "jo-spiegel"}, "Le budget d'une commune", "présenté aux habitants"),
    ("budget", {"annee": "2023"}, "La démocratie participative à Kingersheim", "financent des aires de jeux"),
    ("vote", {"annee": "2024"}, "Le budget d'une commune", "débat d'orientation"),
    ("budget -participatif", {}, "Le budget d'une commune", "débat d'orientation"),
    ("vidéoprotection OR caméras", {}, "La sécurité au quotidien", "présence humaine"),
    ("cyclables", {}, "Le vélo et l'environnement", "vingt kilomètres"),
    ("médecins revenir", {}, "Culture et santé dans les territoires", "trois médecins"),
    ("dotations Etat", {}, "Le budget d'une commune", "ont baissé"),
    ("endettement", {}, "Le budget d'une commune", "reste raisonnable"),
    ("économiser énergie", {}, "Le vélo et l'environnement", "minuit"),
    ("mediation nuit", {}, "La sécurité au quotidien", "conflits de voisinage"),
    ("candidatures ingénieur", {}, "Recruter dans les collectivités", "très peu de candidatures"),
    ("tuteur", {"organisation": "Département du Nord"}, "Recruter dans les collectivités", "deux ans"),
    ("prévention", {"theme": "La prévention"}, "La sécurité au quotidien", "médiation de nuit"),
    ("festival famille", {}, "Culture et santé dans les territoires", "festival d'été"),
]


@pytest.fixture(scope="module", params=["whoosh", "tantivy"])
def archive(request, tmp_path_factory) -> Archive:
    """The archive above, stored through the real store and each search engine (no speech model needed)."""
    data = tmp_path_factory.mktemp("relevance")
    store = Archive(Settings(data_dir=data, search_engine=request.param))
    rng = np.random.default_rng(3)
    for number, (title, date, parts) in enumerate(EPISODES):
        audio = write_wav(Path(data) / f"{number}.wav", 0.01 * rng.standard_normal(16_000))
        utterances, chapters, clock = [], [], 0.0
        for chapter_title, lines in parts:
            chapter_start = clock
            for speaker, sentence in lines:
                utterances.append(Utterance(speaker, clock, clock + 4.0, sentence))
                clock += 5.0
            chapters.append(Chapter(chapter_start, clock, chapter_title))
        labels = sorted({u.speaker for u in utterances})
        voices = [Voice(label, tuple(rng.standard_normal(8)), 10.0) for label in labels]
        saved = store.save_episode(EpisodeMeta(title, date=date),
                                   SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", clock),
                                   utterances, voices, chapters)
        for label in labels:
            name, role, organisation = PEOPLE[label]
            store.name_speaker(saved.id, label, name, role, organisation)
    yield store
    store.close()


@pytest.mark.parametrize(("query", "filters", "episode", "words"), QUERIES, ids=[q for q, *_ in QUERIES])
def test_expected_passage_is_in_the_top_three(archive, query, filters, episode, words):
    results = search(archive.index, SearchRequest(text=query, **filters))
    top = [(group.title, passage.snippet_html) for group in results.episodes for passage in group.passages][:3]
    assert any(title == episode and _same(words, snippet) for title, snippet in top), (query, top)


def _same(words: str, snippet: str) -> bool:
    import html
    import re

    text = re.sub(r"<[^>]+>", "", html.unescape(snippet))
    return words in text


def test_there_are_at_least_thirty_queries():
    assert len(QUERIES) >= 30


def test_facets_count_people_years_and_themes(archive):
    results = search(archive.index, SearchRequest(text="budget"))
    years = {f.value: f.count for f in results.facets["annee"]}
    assert years == {"2023": 2, "2024": 3} or (years.get("2024", 0) >= 2 and years.get("2023", 0) >= 1)
    people = {f.label for f in results.facets["personne"]}
    assert "Jo Spiegel" in people and "Francis Ginsbourger" in people
    assert any(f.value == "Voter le budget" for f in results.facets["theme"])


def test_sort_by_date_and_pagination(archive):
    by_date = search(archive.index, SearchRequest(text="les", sort="date"))
    assert by_date.passage_count == 0  # stop words alone find nothing
    newest_first = search(archive.index, SearchRequest(text="budget OR vélo OR médiathèque", sort="date"))
    dates = [group.date for group in newest_first.episodes]
    assert dates == sorted(dates, reverse=True)
    first = search(archive.index, SearchRequest(text="budget OR vélo OR médiathèque OR police", per_page=3))
    second = search(archive.index, SearchRequest(text="budget OR vélo OR médiathèque OR police", per_page=3, page=2))
    assert first.pages >= 2 and second.page == 2
    ids = lambda r: {p.utterance_doc for g in r.episodes for p in g.passages}  # noqa: E731
    assert not ids(first) & ids(second)


def test_suggestion_from_the_archive_vocabulary(archive):
    results = search(archive.index, SearchRequest(text="partisipation"))
    assert results.fuzzy
    assert results.suggestion == "participation"


def test_exclusions_only_never_return_the_excluded_word(archive):
    assert search(archive.index, SearchRequest(text="-budget")).passage_count == 0
    results = search(archive.index, SearchRequest(text="habitants -budget"))
    assert results.passage_count > 0
    assert all("budget" not in p.snippet_html.lower() for g in results.episodes for p in g.passages)


def test_hidden_episodes_never_appear(archive):
    everything = search(archive.index, SearchRequest(text="budget OR vélo OR médiathèque OR police"))
    hidden = frozenset({everything.episodes[0].episode_id})
    results = search(archive.index, SearchRequest(text="budget OR vélo OR médiathèque OR police", hidden=hidden))
    assert results.episodes and not hidden & {group.episode_id for group in results.episodes}
    assert results.passage_count < everything.passage_count
    by_title = search(archive.index, SearchRequest(text=everything.episodes[0].title, hidden=hidden))
    assert not hidden & {group.episode_id for group in by_title.episodes}
