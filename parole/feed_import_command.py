"""``parole ingest-feed``: bring the back catalogue of an existing podcast feed into the archive.

Registered on the main Typer app by the import at the end of ``parole/cli.py``; the work is
done by ``ingest.feed_import``, imported only when the command runs so ``parole --help``
stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from archive.settings import Settings
from parole.cli import app, console, fail


@app.command("ingest-feed")
def ingest_feed(
    source: Annotated[str, typer.Argument(
        help="Le flux RSS à importer : adresse https://…, file://… ou chemin d'un fichier local.")],
    max_bytes: Annotated[int | None, typer.Option(
        "--max-bytes", min=1, help="Taille maximale d'un fichier audio, en octets (1 Go par défaut).")] = None,
) -> None:
    """Importer tous les épisodes d'un flux podcast existant (ses transcriptions comprises)."""
    from ingest.downloads import MAX_BYTES
    from ingest.feed_import import ItemOutcome, import_feed, summary
    from ingest.feed_reading import FeedError, FeedItem
    from ingest.models import ModelError
    from ingest.speaker_model import SpeakerModelError

    settings = Settings()
    limit = max_bytes or getattr(settings, "max_upload_bytes", MAX_BYTES)

    def on_start(position: int, total: int, item: FeedItem) -> None:
        console.print(f"[{position}/{total}] « {item.title} »…", highlight=False, markup=False)

    def on_item(outcome: ItemOutcome) -> None:
        if outcome.status == "failed":
            console.print(f"  [bold red]Échec[/] pour « {escape(outcome.title)} » : {escape(outcome.reason)}.",
                          highlight=False)
            return
        if outcome.status == "present":
            console.print(f"  Déjà dans l'archive : épisode {outcome.slug}.", highlight=False, markup=False)
            return
        origin = "transcription du flux" if outcome.from_transcript else "transcription automatique"
        console.print(f"  Épisode importé : {outcome.slug} ({origin}, {outcome.utterance_count} passages, "
                      f"{outcome.speaker_count} locuteur{'s' if outcome.speaker_count > 1 else ''}, "
                      f"{outcome.chapter_count} chapitre{'s' if outcome.chapter_count > 1 else ''}).",
                      highlight=False, markup=False)
        for notice in outcome.notices:
            console.print(f"  Remarque : {notice}", highlight=False, markup=False)

    try:
        report = import_feed(source, settings, limit, on_start, on_item)
    except FeedError as error:
        fail(str(error))
    except (ModelError, SpeakerModelError) as error:
        fail(str(error))
    if not report.feed.items:
        console.print("Ce flux ne contient aucun épisode.", highlight=False)
    elif not report.count("imported"):
        console.print("Rien de nouveau à importer.", highlight=False)
    print(summary(report))
    if report.outcomes and report.count("failed") == len(report.outcomes):
        raise typer.Exit(1)
