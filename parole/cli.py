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
from archive.settings import Settings

app = typer.Typer(help="Parole : l'archive de « La parole est à vous ».", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
console = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """A user error: one French line on stderr, exit code 2, no traceback."""
    console.print(f"[bold red]Erreur :[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _parse_date(text: str | None) -> dt.date:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"Date invalide : « {text} » (format attendu : AAAA-MM-JJ).")


def run_ingest(path: Path, meta: EpisodeMeta, settings: Settings) -> str:
    """Ingest with a progress bar; returns the episode slug. Errors end the process (exit 2)."""
    from archive.store import Archive
    from ingest.audio import AudioError
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

            result = ingest_file(path, meta, archive, settings, on_stage=on_stage, on_progress=on_progress)
    except (AudioError, ModelError) as error:
        fail(str(error))
    finally:
        archive.close()
    if result.episode.created:
        console.print(f"Épisode enregistré : {result.episode.slug} ({result.duration:.0f} s, "
                      f"{result.utterance_count} passages).")
    else:
        console.print(f"Cet audio est déjà dans l'archive : épisode {result.episode.slug}.")
    return result.episode.slug


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="Fichier audio (wav, mp3, m4a, ogg, opus, flac).")],
    title: Annotated[str, typer.Option("--title", help="Titre de l'épisode.")],
    description: Annotated[str, typer.Option("--description", help="Description.")] = "",
    date: Annotated[str | None, typer.Option("--date", help="Date de diffusion, AAAA-MM-JJ.")] = None,
    guest: Annotated[list[str] | None, typer.Option("--guest", help="Invité : « Nom|rôle » (répétable).")] = None,
) -> None:
    """Transcrire un épisode et l'ajouter à l'archive."""
    if not title.strip():
        fail("Le titre ne peut pas être vide.")
    guests = tuple(Guest.parse(text) for text in guest or [])
    if any(not g.name for g in guests):
        fail("Invité sans nom : écrivez --guest \"Nom|rôle\".")
    meta = EpisodeMeta(title.strip(), description.strip(), _parse_date(date), guests)
    run_ingest(file, meta, Settings())


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
) -> None:
    """Servir le site et le flux sur http://HOST:PORT."""
    import uvicorn

    from web.app import create_app

    console.print(f"Parole est servi sur http://{host}:{port}", highlight=False)
    uvicorn.run(create_app(Settings()), host=host, port=port, log_level="warning")


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
            dt.date.today(),
            (Guest("Marc Durand", "directeur des services techniques"), Guest("Léa Martin", "bibliothécaire")),
        )
        run_ingest(wav, meta, settings)
    if not no_serve:
        serve(host="127.0.0.1", port=port)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
