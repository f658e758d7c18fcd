"""``python -m archive.migrations "what changes"``: write the next revision for a change made to archive/models.py.

Alembic compares the models with a database brought to the newest revision (the one
PAROLE_DATABASE_URL or PAROLE_DATA_DIR names; a scratch data folder is enough) and
writes ``versions/NNNN_what_changes.py``, to read over before committing.
"""

from __future__ import annotations

import sys

from alembic import command

from archive.db import Database
from archive.migrations import alembic_config, scripts
from archive.settings import Settings


def main(arguments: list[str]) -> int:
    if len(arguments) != 1 or not arguments[0].strip():
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    database = Database(Settings())
    try:
        with database.engine.begin() as connection:
            number = len(list(scripts().walk_revisions())) + 1
            command.revision(alembic_config(connection), message=arguments[0], autogenerate=True,
                             rev_id=f"{number:04d}")
    finally:
        database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
