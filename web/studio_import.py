"""The studio's feed import: a producer gives a podcast feed's address, a worker imports the whole feed.

The web process only checks the address and queues a job (``ingest.jobs.enqueue_feed_import``);
fetching the feed, downloading the audio and reading the transcripts happen in a worker, and
the list page follows the job like any other.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ingest.jobs import MAX_FEED_URL, JobError, check_feed_url, enqueue_feed_import
from web.auth import check_csrf
from web.deps import render
from web.studio import ArchiveDep, ProducerDep

router = APIRouter(prefix="/studio", default_response_class=HTMLResponse)


def _form(request: Request, csrf: str, url: str = "", error: str | None = None, status_code: int = 200):
    return render(request, "studio/import.html", {"csrf": csrf, "url": url, "error": error,
                                                  "max_length": MAX_FEED_URL}, status_code)


@router.get("/import", name="studio_import")
def import_form(request: Request, producer: ProducerDep):
    return _form(request, producer.csrf)


@router.post("/import")
async def import_feed(request: Request, producer: ProducerDep, archive: ArchiveDep,
                      url: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""):
    """Check the address, queue the import, back to the list (303) where its progress shows."""
    check_csrf(producer, csrf)
    url = url[:MAX_FEED_URL + 100]
    try:
        check_feed_url(url)
    except JobError as error:
        return _form(request, producer.csrf, url, str(error), 400)
    try:
        await run_in_threadpool(enqueue_feed_import, archive, url)
    except JobError as error:  # the address was fine: the queue is what failed
        raise HTTPException(503, str(error)) from error
    return RedirectResponse("/studio", status_code=303)
