"""Listeners' comments: hidden until a producer publishes them, private edit links, bounds, bots, rates.

Against a real ``parole serve``; each test posts to its own episode, so the per-episode
rate limit of one test never reaches another.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update

from archive import comments
from archive.db import Database
from archive.models import Comment
from archive.records import EpisodeMeta, SourceAudio, Utterance
from archive.settings import Settings
from archive.store import Archive
from ingest.audio import file_sha256
from tests.helpers import run_parole, start_server, write_wav
from tests.test_studio_security import EMAIL, csrf_of, logged_in
from web.auth import secret_key
from web.comments import RateLimiter, form_token
from web.templating import make_templates

THANKS = "Merci ! Votre commentaire paraîtra après relecture par l'équipe."
EPISODES = ["moderation", "echappement", "lien-prive", "expiration", "champs", "robots", "debit", "refus"]
HOSTILE_TEXT = "<script>alert(1)</script> et <b>gras</b>\ndeuxième ligne"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Live episodes (one per test), one draft, a producer account, a real server."""
    data = tmp_path_factory.mktemp("comments")
    store = Archive(Settings(data_dir=data))
    yesterday = dt.date.today() - dt.timedelta(days=1)
    episodes = {}
    for number, name in enumerate([*EPISODES, "brouillon"]):
        audio = write_wav(data / f"{name}.wav", 0.01 * np.random.default_rng(number).standard_normal(16_000))
        meta = EpisodeMeta(f"Épisode {name}", date=yesterday, draft=name == "brouillon")
        saved = store.save_episode(meta, SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", 1.0),
                                   [Utterance("SPEAKER_1", 0.0, 1.0, "Bonjour à toutes et à tous.")])
        episodes[name] = saved
    store.close()
    created = run_parole(data, "producers", "add", EMAIL, "--generate")
    assert created.returncode == 0, created.stderr
    password = re.search(r"une seule fois\) : (\S+)", created.stdout).group(1)
    server = start_server(data)
    db = Database(Settings(data_dir=data))
    yield SimpleNamespace(server=server, data=data, episodes=episodes, password=password, db=db,
                          client=httpx.Client(base_url=server.base_url, timeout=30))
    db.dispose()
    server.stop()


def post(site, episode: str, token: str | None = None, **fields: str) -> httpx.Response:
    """What the episode page's form sends, with a token signed by the site's own key."""
    saved = site.episodes[episode]
    form = {"token": form_token(Settings(data_dir=site.data), saved.id) if token is None else token,
            "name": "Nadia Benali", "text": "Merci pour cet épisode.", "website": "", **fields}
    return site.client.post(f"/episodes/{saved.slug}/commentaires", data=form)


def posted(site, episode: str, **fields: str) -> tuple[int, str]:
    """Post a comment that must be accepted; its id and private token."""
    response = post(site, episode, **fields)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/commentaires/(\d+)/([\w-]+)/envoye", response.headers["location"])
    return int(match.group(1)), match.group(2)


def rows(site, episode: str) -> list[Comment]:
    with site.db.session() as session:
        return list(session.scalars(select(Comment).where(Comment.episode_id == site.episodes[episode].id)))


def approved(site, episode: str) -> list[Comment]:
    with site.db.session() as session:
        return comments.approved_for_episode(session, site.episodes[episode].id)


# -- pure parts ------------------------------------------------------------------------------


def test_rate_limiter_counts_per_client_and_for_the_whole_site():
    now = [1000.0]
    limiter = RateLimiter(per_client=3, client_window=600, global_per_minute=5, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(600)
    assert limiter.take("b") == 0.0 and limiter.take("c") == 0.0
    assert limiter.take("d") == pytest.approx(60)  # the site's cap, whoever asks
    now[0] += 61
    assert limiter.take("d") == 0.0 and limiter.take("a") > 0
    now[0] += 600
    assert limiter.take("a") == 0.0


def test_fields_are_trimmed_and_bounded_with_french_messages():
    assert comments.clean("  Nadia \n Benali ", "\r\n Bonjour\r\n\r\nà vous  \n") == ("Nadia Benali",
                                                                                      "Bonjour\n\nà vous")
    assert comments.clean("N" * 80, "t" * 2000)
    for name, text, message in [("", "x", "Indiquez votre nom"), ("N" * 81, "x", "trop long"),
                                ("Nadia", " \n\t", "est vide"), ("Nadia", "t" * 2001, "trop long")]:
        with pytest.raises(comments.CommentRefused, match=message):
            comments.clean(name, text)


def test_the_episode_partial_has_labelled_fields_a_honeypot_and_escaped_text(site):
    template = make_templates(Settings(data_dir=site.data)).env.get_template("_comments.html")
    comment = Comment(id=1, name="<i>Léa</i>", text=HOSTILE_TEXT, created_at=dt.datetime(2026, 3, 12, 9, 0))
    html = template.render(episode=SimpleNamespace(slug="un-episode"), comments=[comment], comment_token="jeton")
    assert "<h2" in html and "Commentaires" in html and "12 mars 2026" in html
    assert "<script>" not in html and "<b>gras</b>" not in html and "<i>Léa</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;gras&lt;/b&gt;" in html
    assert 'class="comment-text"' in html  # white-space: pre-line keeps the line breaks
    for field_id, label in [("comment-name", "Votre nom"), ("comment-text", "Votre commentaire"),
                            ("comment-website", "Laissez ce champ vide")]:
        assert f'<label for="{field_id}">{label}</label>' in html
    trap = re.search(r'<input id="comment-website"[^>]*>', html).group(0)
    assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap
    assert 'name="token" value="jeton"' in html and "Envoyer le commentaire" in html
    closed = template.render(episode=SimpleNamespace(slug="x"), comments=[], comment_token="")
    assert "Aucun commentaire" in closed and "<form" not in closed


# -- listeners and producers -----------------------------------------------------------------


def test_a_comment_stays_hidden_until_a_producer_publishes_it(site):
    comment_id, token = posted(site, "moderation", text="Très bel épisode sur le budget participatif.")
    thanks = site.client.get(f"/commentaires/{comment_id}/{token}/envoye")
    assert thanks.status_code == 200 and THANKS in thanks.text and 'role="status"' in thanks.text
    assert f'href="/commentaires/{comment_id}/{token}">Modifier le commentaire</a>' in thanks.text
    assert thanks.headers["cache-control"] == "no-store"
    stored = rows(site, "moderation")[0]
    assert not stored.approved and stored.edit_token_sha256 != token and len(stored.client_hash) == 64
    public = f"/episodes/{site.episodes['moderation'].slug}"
    assert "Très bel épisode" not in site.client.get(public).text  # hidden from listeners until published
    assert "127.0.0.1" not in stored.client_hash and approved(site, "moderation") == []

    producer = logged_in(site.server, site.password)
    page = producer.get("/studio/commentaires").text
    assert "Très bel épisode sur le budget participatif." in page and "Épisode moderation" in page
    assert "Nadia Benali" in page and "Commentaires à relire" in page
    csrf = csrf_of(producer, "/studio/commentaires")
    published = producer.post(f"/studio/commentaires/{comment_id}/publier", data={"csrf": csrf})
    assert published.status_code == 303 and published.headers["location"] == "/studio/commentaires?fait=publie"
    assert [c.text for c in approved(site, "moderation")] == ["Très bel épisode sur le budget participatif."]
    episode_page = site.client.get(public).text  # now on the episode page, above the form
    assert "Très bel épisode sur le budget participatif." in episode_page and "Envoyer le commentaire" in episode_page
    after = producer.get("/studio/commentaires?fait=publie").text
    assert "Très bel épisode" not in after and 'role="status"' in after
    second_id, _ = posted(site, "moderation", name="Paul", text="Un second avis.")
    producer.post(f"/studio/commentaires/{second_id}/publier", data={"csrf": csrf})
    assert [c.name for c in approved(site, "moderation")] == ["Nadia Benali", "Paul"]  # oldest first
    producer.close()


def test_html_in_a_comment_is_shown_as_text(site):
    comment_id, token = posted(site, "echappement", name="<i>Léa</i>", text=HOSTILE_TEXT)
    producer = logged_in(site.server, site.password)
    pages = [producer.get("/studio/commentaires").text, site.client.get(f"/commentaires/{comment_id}/{token}").text]
    for page in pages:
        assert "<script>alert(1)</script>" not in page and "<b>gras</b>" not in page and "<i>Léa</i>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;gras&lt;/b&gt;" in page
        assert "&lt;i&gt;Léa&lt;/i&gt;" in page
    producer.close()


def test_the_private_link_opens_its_own_comment_only(site):
    first_id, first_token = posted(site, "lien-prive", text="Premier texte.")
    second_id, second_token = posted(site, "lien-prive", name="Paul", text="Second texte.")
    missing = [f"/commentaires/{second_id}/{first_token}", f"/commentaires/{first_id}/mauvais-jeton",
               f"/commentaires/999999/{first_token}", f"/commentaires/abc/{first_token}"]
    for path in missing:
        assert site.client.get(path).status_code == 404, path
    assert site.client.post(missing[0], data={"action": "supprimer"}).status_code == 404
    assert site.client.post(missing[1], data={"name": "X", "text": "Piraté"}).status_code == 404

    edit = site.client.get(f"/commentaires/{first_id}/{first_token}")
    assert edit.status_code == 200 and "Premier texte." in edit.text and ">Supprimer</button>" in edit.text
    assert '<label for="edit-name">Votre nom</label>' in edit.text and edit.headers["referrer-policy"] == "no-referrer"
    with site.db.sessions.begin() as session:
        comments.approve(session, first_id)
    saved = site.client.post(f"/commentaires/{first_id}/{first_token}", data={"name": "Nadia",
                                                                           "text": "Texte corrigé."})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?enregistre=1")
    assert "Modifications enregistrées" in site.client.get(saved.headers["location"]).text
    assert approved(site, "lien-prive") == []  # back to moderation
    assert {c.id: c.text for c in rows(site, "lien-prive")} == {first_id: "Texte corrigé.", second_id: "Second texte."}
    empty = site.client.post(f"/commentaires/{first_id}/{first_token}", data={"name": "Nadia", "text": "  "})
    assert empty.status_code == 400 and "Votre commentaire est vide." in empty.text and 'role="alert"' in empty.text

    deleted = site.client.post(f"/commentaires/{first_id}/{first_token}", data={"action": "supprimer"})
    assert deleted.status_code == 200 and "Votre commentaire a été supprimé." in deleted.text
    assert [c.id for c in rows(site, "lien-prive")] == [second_id]
    assert site.client.get(f"/commentaires/{first_id}/{first_token}").status_code == 404
    assert site.client.get(f"/commentaires/{second_id}/{second_token}").status_code == 200


def test_the_private_link_expires_after_24_hours(site):
    comment_id, token = posted(site, "expiration")
    with site.db.sessions.begin() as session:
        session.execute(update(Comment).where(Comment.id == comment_id)
                        .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)))
    for response in (site.client.get(f"/commentaires/{comment_id}/{token}"),
                     site.client.get(f"/commentaires/{comment_id}/{token}/envoye"),
                     site.client.post(f"/commentaires/{comment_id}/{token}", data={"name": "N", "text": "Autre"}),
                     site.client.post(f"/commentaires/{comment_id}/{token}", data={"action": "supprimer"})):
        assert response.status_code == 410 and "24 heures" in response.text
    assert [c.text for c in rows(site, "expiration")] == ["Merci pour cet épisode."]
    assert site.client.get(f"/commentaires/{comment_id}/autre-jeton").status_code == 404  # still reveals nothing


def test_empty_or_too_long_fields_are_refused_in_french(site):
    cases = [({"name": "   "}, "Indiquez votre nom."), ({"text": " \n "}, "Votre commentaire est vide."),
             ({"name": "N" * 81}, "Votre nom est trop long"), ({"text": "t" * 2001}, "Votre commentaire est trop long")]
    for fields, message in cases:
        response = post(site, "champs", **fields)
        assert response.status_code == 400 and message in response.text, fields
        assert 'role="alert"' in response.text and 'aria-invalid="true"' in response.text
    kept = post(site, "champs", name="N" * 81, text="Mon texte à ne pas perdre.")
    assert "Mon texte à ne pas perdre.</textarea>" in kept.text  # the form comes back with what was typed
    assert rows(site, "champs") == []
    posted(site, "champs", name="N" * 80, text="t" * 2000)


def test_bots_forged_forms_and_drafts_are_refused(site):
    trapped = post(site, "robots", website="http://spam.example")
    assert trapped.status_code == 400 and "Laissez ce champ vide" in trapped.text
    assert post(site, "robots", token="").status_code == 403
    assert post(site, "robots", token="eyJhIjoxfQ.faux.jeton").status_code == 403
    other = form_token(Settings(data_dir=site.data), site.episodes["champs"].id)
    assert post(site, "robots", token=other).status_code == 403  # a token is for one episode

    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 3600 - 60

    old = URLSafeTimedSerializer(secret_key(Settings(data_dir=site.data)), salt="parole-comment",
                                 signer=TwoHoursAgo).dumps(site.episodes["robots"].id)
    expired = post(site, "robots", token=old)
    assert expired.status_code == 403 and "expiré" in expired.text
    assert rows(site, "robots") == []
    draft = site.episodes["brouillon"]
    assert site.client.post(f"/episodes/{draft.slug}/commentaires",
                            data={"token": form_token(Settings(data_dir=site.data), draft.id), "name": "N",
                                  "text": "T"}).status_code == 404


def test_too_many_comments_are_refused_for_a_while(site):
    for _ in range(3):
        posted(site, "debit")
    refused = post(site, "debit")
    assert refused.status_code == 429 and "réessayez dans" in refused.text
    assert int(refused.headers["retry-after"]) > 500
    assert len(rows(site, "debit")) == 3


def test_moderation_needs_a_session_and_the_studio_token(site):
    comment_id, _ = posted(site, "refus", text="Un commentaire à refuser.")
    anonymous = httpx.Client(base_url=site.server.base_url)
    for response in (anonymous.get("/studio/commentaires"),
                     anonymous.post(f"/studio/commentaires/{comment_id}/publier", data={"csrf": "x"}),
                     anonymous.post(f"/studio/commentaires/{comment_id}/refuser", data={"csrf": "x"})):
        assert response.status_code == 303 and response.headers["location"].startswith("/studio/connexion")
    anonymous.close()
    producer = logged_in(site.server, site.password)
    for action in ("publier", "refuser"):
        assert producer.post(f"/studio/commentaires/{comment_id}/{action}", data={"csrf": "faux"}).status_code == 403
    assert len(rows(site, "refus")) == 1 and approved(site, "refus") == []
    csrf = csrf_of(producer, "/studio/commentaires")
    refused = producer.post(f"/studio/commentaires/{comment_id}/refuser", data={"csrf": csrf})
    assert refused.status_code == 303 and rows(site, "refus") == []
    assert producer.post(f"/studio/commentaires/{comment_id}/publier", data={"csrf": csrf}).status_code == 404
    producer.close()
