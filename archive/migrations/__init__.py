"""The schema's history as Alembic revisions (``versions/``), shipped inside the package.

``archive.db.Database`` brings every database it opens to the newest revision; see
``upgrade.py``. Developers write a new revision with ``python -m archive.migrations``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

FOLDER = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None, folder: Path = FOLDER) -> Config:
    """Alembic's settings built in code, so no alembic.ini has to travel with the package.

    ``folder`` is this package's; tests give a copy holding one more revision.
    """
    config = Config()
    config.set_main_option("script_location", str(folder))
    config.attributes["connection"] = connection
    return config


@cache
def scripts(folder: Path = FOLDER) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(folder=folder))


def head_revision(folder: Path = FOLDER) -> str:
    head = scripts(folder).get_current_head()
    assert head is not None, f"{folder / 'versions'} holds no revision"
    return head


def first_revision(folder: Path = FOLDER) -> str:
    return scripts(folder).get_base()
