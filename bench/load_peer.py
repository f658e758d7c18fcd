"""The peer of bench/load.py: the smallest app that serves one file, on the same server stack as Parole.

It runs under uvicorn with the same workers, event loop, HTTP parser and log level as
``parole serve``, and answers with Starlette's FileResponse (what Parole uses for audio),
so the comparison isolates what Parole's own work costs: routing, SQL, search, templates.

    python -m uvicorn bench.load_peer:app --workers N --log-level warning   (LOAD_PEER_FILE=page.html)
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route

# Read from the environment because uvicorn imports the app by name in each worker.
PAGE = Path(os.environ.get("LOAD_PEER_FILE", "page.html"))


async def page(_request: Request) -> FileResponse:
    return FileResponse(PAGE, media_type="text/html; charset=utf-8")


app = Starlette(routes=[Route("/", page)])
