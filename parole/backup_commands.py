"""Backups and integrity: ``parole export``, ``parole import`` and ``parole verify``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from archive.settings import Settings
from parole.cli import app, console, fail

BackupFile = Annotated[Path, typer.Argument(help="Le fichier de sauvegarde (.tar).")]


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A bar in a terminal (bytes copied), nothing in a script or a log."""
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(description, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def _size(size: int) -> str:
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} Ko"
    return f"{size / 1e6:.1f} Mo".replace(".", ",")


def _media(count: int) -> str:
    return f"{count} fichier{'s' if count > 1 else ''} média{'s' if count > 1 else ''}"


def _rows(rows: dict[str, int]) -> str:
    total = sum(rows.values())
    return f"{total} ligne{'s' if total > 1 else ''}"


@app.command("export")
def export_command(file: BackupFile) -> None:
    """Sauvegarder toute l'archive (base, médias, clé du studio) dans un fichier .tar, avec un manifeste sha256."""
    from archive.backup import BackupError, export_archive
    from archive.db import DatabaseUnavailable

    try:
        with _progress("Sauvegarde") as on_progress:
            summary = export_archive(Settings(), file, on_progress)
    except (BackupError, DatabaseUnavailable) as error:
        fail(str(error))
    console.print(f"Sauvegarde écrite : {summary.path} ({summary.episodes} épisode{'s' if summary.episodes > 1 else ''}"
                  f", {_rows(summary.rows)}, {_media(summary.media_files)}, {_size(summary.size)}).", highlight=False)


@app.command("import")
def import_command(file: BackupFile) -> None:
    """Restaurer une sauvegarde dans un dossier de données vide, puis reconstruire l'index de recherche."""
    from archive.backup import BackupError, import_archive
    from archive.db import DatabaseUnavailable

    settings = Settings()
    try:
        with _progress("Restauration") as on_progress:
            summary = import_archive(settings, file, on_progress)
    except (BackupError, DatabaseUnavailable) as error:
        fail(str(error))
    console.print(f"Sauvegarde restaurée dans {settings.data_dir} : {summary.episodes} "
                  f"épisode{'s' if summary.episodes > 1 else ''}, {_rows(summary.rows)}, {_media(summary.media_files)}"
                  f", index reconstruit ({summary.index_documents} documents).", highlight=False)


@app.command("verify")
def verify_command(
    repair: Annotated[bool, typer.Option(
        "--repair", help="Reconstruire l'index et retirer les fichiers inutiles (un média abîmé reste signalé).")]
    = False,
) -> None:
    """Vérifier les médias (empreintes sha256), l'audio de chaque épisode et l'index ; code 1 s'il reste un problème."""
    from archive.db import DatabaseUnavailable
    from archive.integrity import NoArchiveError, verify_archive

    try:
        report = verify_archive(Settings(), repair=repair)
    except (NoArchiveError, DatabaseUnavailable) as error:
        fail(str(error))
    for finding in report.findings:
        print(finding.line())
    for note in report.notes:
        print(f"Remarque : {note}")
    print(report.summary(repair))
    raise typer.Exit(0 if report.ok else 1)
