"""The ``parole`` command. Verbs and options are English; what it prints is French."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from archive.records import EpisodeMeta, Guest
from archive.release import latest_live_date
from archive.settings import Settings

app = typer.Typer(help="Parole : l'archive de « La parole est à vous ».", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
console = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """A user error: one French line on stderr, exit code 2, no traceback."""
    console.print(f"[bold red]Erreur :[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _parse_date(text: str | None) -> dt.date:
    if not text:
        return latest_live_date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"Date invalide : « {text} » (format attendu : AAAA-MM-JJ).")


def run_ingest(path: Path, meta: EpisodeMeta, settings: Settings, speakers=None, chapters: int | None = None) -> str:
    """Ingest with a progress bar; returns the episode slug. Errors end the process (exit 2)."""
    from archive.store import Archive
    from ingest.audio import AudioError
    from ingest.diarize import SpeakerCount
    from ingest.models import ModelError
    from ingest.pipeline import ingest_file

    archive = Archive(settings)
    columns = (TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.fields[done]}"), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
            task = progress.add_task("Décodage", total=None, done="")

            def on_stage(name: str) -> None:
                progress.update(task, description=name.capitalize())

            def on_progress(done: float, total: float) -> None:
                progress.update(task, completed=done, total=total, done=f"{done:.0f} / {total:.0f} s d'audio")

            result = ingest_file(path, meta, archive, settings, on_stage=on_stage, on_progress=on_progress,
                                 speakers=speakers or SpeakerCount(), chapter_count=chapters)
    except (AudioError, ModelError) as error:
        fail(str(error))
    finally:
        archive.close()
    for notice in result.notices:
        console.print(f"[yellow]Remarque :[/] {notice}", highlight=False)
    if result.episode.created:
        voices = f"{result.speaker_count} locuteur{'s' if result.speaker_count > 1 else ''}"
        parts = f"{result.chapter_count} chapitre{'s' if result.chapter_count > 1 else ''}"
        console.print(f"Épisode enregistré : {result.episode.slug} ({result.duration:.0f} s, "
                      f"{result.utterance_count} passages, {voices}, {parts}).", highlight=False)
        durations = " ; ".join(f"{name} {seconds:.1f} s".replace(".", ",") for name, seconds in result.stage_seconds)
        console.print(f"Durées : {durations}", highlight=False)
    else:
        console.print(f"Cet audio est déjà dans l'archive : épisode {result.episode.slug}.")
    return result.episode.slug


# The options an episode is sent with, shared by ``parole ingest`` and ``parole enqueue``.
AudioFile = Annotated[Path, typer.Argument(help="Fichier audio (wav, mp3, m4a, ogg, opus, flac).")]
TitleOption = Annotated[str, typer.Option("--title", help="Titre de l'épisode.")]
DescriptionOption = Annotated[str, typer.Option("--description", help="Description.")]
DateOption = Annotated[str | None, typer.Option("--date", help="Date de diffusion, AAAA-MM-JJ.")]
GuestOption = Annotated[list[str] | None, typer.Option(
    "--guest", help="Invité : « Nom|rôle|organisation » (répétable).")]
SpeakersOption = Annotated[int | None, typer.Option(
    "--speakers", min=1, help="Nombre exact de locuteurs, s'il est connu.")]
MinSpeakersOption = Annotated[int, typer.Option("--min-speakers", min=1, help="Au moins ce nombre de locuteurs.")]
MaxSpeakersOption = Annotated[int, typer.Option("--max-speakers", min=1, help="Au plus ce nombre de locuteurs.")]
ChaptersOption = Annotated[int | None, typer.Option(
    "--chapters", min=1, help="Nombre de chapitres voulu (sinon trouvé automatiquement).")]
DraftOption = Annotated[bool, typer.Option(
    "--draft", help="Garder l'épisode en brouillon, hors du flux (à publier avec « parole episode --publish »).")]
NumberOption = Annotated[int | None, typer.Option("--number", min=1, help="Numéro de l'épisode.")]
SeasonOption = Annotated[int | None, typer.Option("--season", min=1, help="Numéro de la saison.")]


def episode_meta(title: str, description: str, date: str | None, guest: list[str] | None, draft: bool,
                 number: int | None, season: int | None) -> EpisodeMeta:
    """The episode card from the command line, checked before any work starts."""
    if not title.strip():
        fail("Le titre ne peut pas être vide.")
    guests = tuple(Guest.parse(text) for text in guest or [])
    if any(not g.name for g in guests):
        fail("Invité sans nom : écrivez --guest \"Nom|rôle\".")
    return EpisodeMeta(title.strip(), description.strip(), _parse_date(date), guests, draft, number, season)


@app.command()
def ingest(file: AudioFile, title: TitleOption, description: DescriptionOption = "", date: DateOption = None,
           guest: GuestOption = None, speakers: SpeakersOption = None, min_speakers: MinSpeakersOption = 1,
           max_speakers: MaxSpeakersOption = 10, chapters: ChaptersOption = None, draft: DraftOption = False,
           number: NumberOption = None, season: SeasonOption = None) -> None:
    """Transcrire un épisode et l'ajouter à l'archive."""
    from ingest.diarize import SpeakerCount

    meta = episode_meta(title, description, date, guest, draft, number, season)
    if min_speakers > max_speakers:
        fail("--min-speakers ne peut pas dépasser --max-speakers.")
    run_ingest(file, meta, Settings(), SpeakerCount(speakers, min_speakers, max_speakers), chapters)


@app.command("speakers")
def speakers_command(
    episode: Annotated[str, typer.Argument(help="L'épisode (son identifiant d'URL, ex. la-participation-citoyenne).")],
    name: Annotated[tuple[str, str] | None, typer.Option(
        "--name", help="Nommer un locuteur : --name SPEAKER_1 \"Jo Spiegel\".")] = None,
    role: Annotated[str, typer.Option("--role", help="Rôle ou métier de la personne nommée.")] = "",
    organisation: Annotated[str, typer.Option("--organisation", help="Collectivité ou organisation.")] = "",
    host: Annotated[bool, typer.Option("--host", help="La personne nommée anime l'émission.")] = False,
) -> None:
    """Lister les locuteurs d'un épisode, ou en nommer un."""
    from archive.catalogue import episode_by_slug
    from archive.people import NamingError, speaker_names
    from archive.store import Archive

    archive = Archive(Settings())
    try:
        with archive.db.session() as session:
            found = episode_by_slug(session, episode)
            if found is None:
                fail(f"Épisode inconnu : « {episode} ». La liste est sur la page d'accueil du site.")
            if name is not None:
                try:
                    slug = archive.name_speaker(found.id, name[0], name[1], role, organisation, host)
                except NamingError as error:
                    fail(str(error))
                console.print(f"{name[0]} est maintenant « {name[1]} » (fiche : /personnes/{slug}).", highlight=False)
                return
            names = speaker_names(found)
            if not found.speakers:
                print("Aucun locuteur détecté dans cet épisode.")
            for voice in found.speakers:
                said = [u for u in found.utterances if u.speaker == voice.label]
                first = " ".join(" ".join(u.text for u in said[:2]).split()[:12])
                status = " (reconnu automatiquement, à confirmer)" if voice.auto_recognized else ""
                print(f"{voice.label}\t{names[voice.label]}{status}\t{voice.talk_time:.0f} s\t« {first} … »")
    finally:
        archive.close()


@app.command("episode")
def episode_command(
    episode: Annotated[str, typer.Argument(help="L'épisode (son identifiant d'URL).")],
    title: Annotated[str | None, typer.Option("--title", help="Nouveau titre (l'identifiant du flux ne change pas).")]
    = None,
    description: Annotated[str | None, typer.Option("--description", help="Nouvelle description.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Date de diffusion, AAAA-MM-JJ.")] = None,
    number: Annotated[int | None, typer.Option("--number", help="Numéro de l'épisode.")] = None,
    season: Annotated[int | None, typer.Option("--season", help="Numéro de la saison.")] = None,
    publish: Annotated[bool, typer.Option("--publish", help="Publier : l'épisode entre dans le flux à sa date.")]
    = False,
    draft: Annotated[bool, typer.Option("--draft", help="Repasser en brouillon (retiré du flux).")] = False,
    soundbite: Annotated[tuple[float, float] | None, typer.Option(
        "--soundbite", help="Extrait à partager : début et durée en secondes (15 à 120).")] = None,
    propose_soundbite: Annotated[bool, typer.Option(
        "--propose-soundbite", help="Revenir à l'extrait proposé automatiquement.")] = False,
) -> None:
    """Afficher ou modifier la fiche d'un épisode (titre, date, numéro, publication, extrait)."""
    from archive.catalogue import episode_by_slug, publication_time
    from archive.episode_changes import EpisodeChanges
    from archive.store import Archive

    if publish and draft:
        fail("Choisissez --publish ou --draft, pas les deux.")
    changes = EpisodeChanges(
        title=title, description=description, date=_parse_date(date) if date else None,
        status="published" if publish else "draft" if draft else None, episode_number=number, season=season,
        soundbite=soundbite, clear_soundbite=propose_soundbite)
    archive = Archive(Settings())
    try:
        with archive.db.session() as session:
            found = episode_by_slug(session, episode, with_transcript=False)
            if found is None:
                fail(f"Épisode inconnu : « {episode} ». La liste est sur la page d'accueil du site.")
        if changes != EpisodeChanges():
            try:
                found = archive.update_episode(found.id, changes)
            except ValueError as error:
                fail(str(error))
        released = publication_time(found)
        status = ("brouillon" if found.status == "draft" else
                  f"{'publié' if released <= dt.datetime.now(dt.UTC) else 'programmé'} le {released:%d/%m/%Y}")
        bite = (f"{found.soundbite_start:.0f} s + {found.soundbite_duration:.0f} s"
                f"{' (choisi)' if found.soundbite_picked else ' (proposé)'}") if found.soundbite_duration else "aucun"
        for label, value in (("Titre", found.title), ("Date", found.date.isoformat()), ("Statut", status),
                             ("Numéro", found.episode_number or "—"), ("Saison", found.season or "—"),
                             ("Extrait", bite), ("Identifiant du flux", found.guid)):
            print(f"{label} : {value}")
    finally:
        archive.close()


@app.command("chapters")
def chapters_command(
    episode: Annotated[str, typer.Argument(help="L'épisode (son identifiant d'URL).")],
    title: Annotated[tuple[int, str] | None, typer.Option(
        "--title", help="Renommer un chapitre : --title 2 \"Le budget participatif\".")] = None,
    split: Annotated[float | None, typer.Option(
        "--split", help="Couper le chapitre en cours à ce moment (secondes).")] = None,
    merge: Annotated[int | None, typer.Option("--merge", help="Fusionner le chapitre N avec le suivant.")] = None,
    recompute: Annotated[bool, typer.Option("--recompute", help="Recalculer les chapitres à partir du texte.")] = False,
    count: Annotated[int | None, typer.Option("--count", min=1, help="Avec --recompute : nombre de chapitres.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Avec --recompute : remplacer aussi des chapitres modifiés.")] = False,
) -> None:
    """Lister les chapitres d'un épisode, ou les modifier."""
    from archive import chapters as edits
    from archive.catalogue import episode_by_slug
    from archive.records import Utterance as Spoken
    from archive.store import Archive
    from feeds.timefmt import clock
    from ingest.topics import chapters as find_chapters

    if sum(option is not None and option is not False for option in (title, split, merge, recompute or None)) > 1:
        fail("Une seule modification à la fois : --title, --split, --merge ou --recompute.")
    settings = Settings()
    archive = Archive(settings)
    try:
        with archive.db.session() as session:
            found = episode_by_slug(session, episode)
        if found is None:
            fail(f"Épisode inconnu : « {episode} ». La liste est sur la page d'accueil du site.")
        edit = None
        if title is not None:
            edit = lambda e: edits.rename(e, title[0], title[1])  # noqa: E731
        elif split is not None:
            edit = lambda e: edits.split(e, split)  # noqa: E731
        elif merge is not None:
            edit = lambda e: edits.merge(e, merge)  # noqa: E731
        elif recompute:
            spoken = [Spoken(u.speaker, u.start, u.end, u.text) for u in found.utterances]
            records = find_chapters(spoken, found.duration, settings.chapter_min_share, count)
            edit = lambda e: edits.replace(e, records, force)  # noqa: E731
        if edit is not None:
            try:
                found = archive.edit_chapters(found.id, edit)
            except edits.ChapterError as error:
                fail(str(error))
        if not found.chapters:
            print("Aucun chapitre : l'épisode forme un seul bloc.")
        for number, chapter in enumerate(found.chapters, start=1):
            mark = " (modifié)" if chapter.edited else ""
            print(f"{number}\t{clock(chapter.start)} – {clock(chapter.end)}\t{chapter.title}{mark}"
                  f"\t[{', '.join(chapter.keywords)}]")
    finally:
        archive.close()


@app.command()
def person(
    slug: Annotated[str, typer.Argument(help="La personne (identifiant d'URL, ex. jo-spiegel).")],
    role: Annotated[str | None, typer.Option("--role", help="Rôle ou métier.")] = None,
    organisation: Annotated[str | None, typer.Option("--organisation", help="Collectivité ou organisation.")] = None,
    bio: Annotated[str | None, typer.Option("--bio", help="Courte biographie.")] = None,
    link: Annotated[str | None, typer.Option("--link", help="Lien (site, page officielle).")] = None,
) -> None:
    """Afficher ou modifier la fiche d'une personne."""
    from archive.store import Archive

    archive = Archive(Settings())
    try:
        if link and not link.startswith(("https://", "http://")):
            fail("Le lien doit commencer par https:// ou http://.")
        changes = {k: v.strip() for k, v in {"role": role, "organisation": organisation, "bio": bio,
                                             "link": link}.items() if v is not None}
        found = archive.update_person(slug, changes)
        if found is None:
            fail(f"Personne inconnue : « {slug} » (voir la page /personnes du site).")
        for label, value in (("Nom", found.name), ("Rôle", found.role), ("Organisation", found.organisation),
                             ("Bio", found.bio), ("Lien", found.link)):
            print(f"{label} : {value}")
    finally:
        archive.close()


@app.command()
def reindex() -> None:
    """Reconstruire l'index de recherche à partir de la base."""
    from archive.store import Archive

    archive = Archive(Settings())
    try:
        count = archive.reindex()
    finally:
        archive.close()
    console.print(f"Index reconstruit : {count} documents.")


@app.command()
def models() -> None:
    """Afficher le modèle de transcription installé et son emplacement."""
    from ingest.models import ModelError, model_info

    try:
        info = model_info(Settings())
    except ModelError as error:
        fail(str(error))
    print(f"Modèle : {info.name}\nEmplacement : {info.path}\nSource : {info.source}\n"
          f"Taille : {info.size_bytes / 1e6:.0f} Mo")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    with_worker: Annotated[bool, typer.Option(
        "--with-worker", help="Lancer aussi un processus de travail (« parole worker »), arrêté avec le serveur.")
    ] = False,
    workers: Annotated[int, typer.Option(
        "--workers", help="Nombre de processus web (chacun lit sa configuration dans les variables PAROLE_*).")
    ] = 1,
) -> None:
    """Servir le site et le flux sur http://HOST:PORT."""
    import uvicorn

    from parole.worker_commands import start_worker_process, stop_worker_process
    from web.app import create_app

    if not 1 <= workers <= 64:
        fail(f"--workers doit être compris entre 1 et 64 (reçu : {workers}).")
    # Bounded waits and load: idle keep-alive connections close after 10 s, a stop waits 20 s at most for
    # requests in flight, and past 500 open connections per process new ones get 503 instead of queueing.
    limits = {"timeout_keep_alive": 10, "timeout_graceful_shutdown": 20, "limit_concurrency": 500,
              "backlog": 1024, "server_header": False}
    # The web process never transcribes: the worker is a separate process, started and stopped with it.
    worker = start_worker_process() if with_worker else None
    if worker is not None:
        import signal

        def end(signum: int, _frame) -> None:
            raise SystemExit(128 + signum)

        # uvicorn re-raises the SIGTERM it caught once it has shut down: let it unwind to the finally below.
        signal.signal(signal.SIGTERM, end)
    console.print(f"Parole est servi sur http://{host}:{port}", highlight=False)
    try:
        if workers == 1:
            uvicorn.run(create_app(Settings()), host=host, port=port, log_level="warning", **limits)
        else:  # each process builds its own application from the PAROLE_* settings
            from archive.db import Database

            Database(Settings()).dispose()  # an unreachable database is said here once, not by each process
            uvicorn.run("web.app:create_app", factory=True, workers=workers, host=host, port=port,
                        log_level="warning", **limits)
    finally:
        if worker is not None:
            stop_worker_process(worker)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Préparer l'archive sans la servir.")] = False,
) -> None:
    """Créer une archive d'exemple (entretien synthétisé) puis la servir."""
    from ingest.synth import INTERVIEW, synthesize

    settings = Settings()
    with tempfile.TemporaryDirectory() as folder:
        wav = synthesize(INTERVIEW).write_wav(Path(folder) / "entretien-demo.wav")
        meta = EpisodeMeta(
            "La participation citoyenne au quotidien",
            "Un directeur des services techniques et une bibliothécaire racontent comment ils associent "
            "les habitants aux décisions de leur collectivité.",
            latest_live_date(),
            (Guest("Marc Durand", "directeur des services techniques", "Ville de Saint-Aubin"),
             Guest("Léa Martin", "responsable de la médiathèque", "Communauté de communes du Val")),
        )
        slug = run_ingest(wav, meta, settings)
    _name_demo_voices(settings, slug)
    if not no_serve:
        serve(host="127.0.0.1", port=port)


def _name_demo_voices(settings: Settings, slug: str) -> None:
    """The demo's voices appear in script order: name them as a producer would."""
    from archive.catalogue import episode_by_slug
    from archive.store import Archive

    cast = {"SPEAKER_1": ("Claire Dubois", "animatrice", True), "SPEAKER_2": ("Marc Durand", "", False),
            "SPEAKER_3": ("Léa Martin", "", False)}
    archive = Archive(settings)
    try:
        with archive.db.session() as session:
            episode = episode_by_slug(session, slug)
            labels = {voice.label for voice in episode.speakers if voice.person is None}
        if labels == set(cast):
            for label, (name, role, host) in cast.items():
                archive.name_speaker(episode.id, label, name, role, host=host)
    finally:
        archive.close()


def main() -> None:
    from archive.db import DatabaseUnavailable

    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except DatabaseUnavailable as error:  # any command may be the first to find the database unreachable
        console.print(f"[bold red]Erreur :[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(2)

from parole import feed_import_command  # noqa: E402,F401,I001  (registers "ingest-feed")
from parole import producer_commands  # noqa: E402,F401  (registers "producers")
from parole import worker_commands  # noqa: E402,F401  (registers "worker" and "jobs")
from parole import backup_commands  # noqa: E402,F401  (registers "export", "import" and "verify")
