"""The site under load: 50 clients at once against ``parole serve``, then the same against a static file.

A catalogue of a few dozen episodes (60 French utterances each, from bench/search.py's
generator, with named speakers, chapters and a few seconds of real WAV audio) is stored
through the real store, then served by ``parole serve`` on loopback. One asyncio loop runs
N clients, each with its own httpx connection and no think time, for D seconds; each
client picks weighted random requests as listeners and podcast apps make them: searches
(page and API, terms, phrases, exclusions, fuzzy words), home, episode and person pages,
the feed (mostly conditional, with the ETag the client got earlier), audio with
``Range: bytes=a-b`` and transcript files. An error is a transport error, a timeout,
another status than the one expected (200, 206 or 304) or a range of the wrong length.

The peer, measured in the same run with the same clients, duration and uvicorn workers:
bench/load_peer.py, a Starlette app that serves one file (Parole's home page saved as
HTML) on the same server stack (uvicorn, uvloop, httptools). It is the floor of what a
request costs there, so the ratios say what Parole's own work adds under load. Python's
http.server would be a weaker peer (HTTP/1.0, a thread per connection) and flatter Parole.
The clients run on the same machine as the servers and take CPU from them, for both alike.
The peak resident memory of each server (all its processes) is sampled during its run.

    python bench/load.py [--clients 50] [--seconds 60] [--workers 2] [--data DIR] [--peer-seconds S]

Target: 50 clients for 60 s with no error; p99 reported.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archive.db import Database  # noqa: E402
from archive.models import Episode  # noqa: E402
from archive.records import Chapter, EpisodeMeta, SourceAudio, Utterance, Voice  # noqa: E402
from archive.release import latest_live_date  # noqa: E402
from archive.settings import Settings  # noqa: E402
from archive.store import Archive  # noqa: E402
from bench.load_servers import PeakMemory, Server, running, tail  # noqa: E402
from bench.search import PER_EPISODE, QUERIES, generate, percentile  # noqa: E402
from bench.topic_corpus import SUBJECTS  # noqa: E402
from ingest.audio import file_sha256  # noqa: E402
from tests.helpers import free_port, write_wav  # noqa: E402

RATE = 16_000
TARGET_CLIENTS, TARGET_SECONDS = 50, 60
# How often each kind of request comes, out of 100: podcast apps (feed, audio) and people on the site.
WEIGHTS = {"recherche": 14, "api recherche": 8, "accueil": 8, "page épisode": 14, "page personne": 6,
           "flux": 12, "audio (Range)": 26, "transcription": 12}
EXCLUSIONS = ["budget -commune", "habitants -budget", "formation -apprentis", "police -nuit",
              "médiathèque -enfants", '"conseil municipal" -budget']
SEARCHES = [query for queries in QUERIES.values() for query in queries] + EXCLUSIONS
WITHIN_EPISODE = ["budget", "habitants", "recrutement", "formation", "police"]
# A podcast app first asks for two bytes to learn the size, then reads chunks.
RANGE_LENGTHS = (2, 65_536, 262_144)
TRANSCRIPT_FORMATS = ("vtt", "srt", "json")
CONDITIONAL_FEED_SHARE = 0.75
# The uvicorn settings ``parole serve`` runs with (parole/cli.py), given to the peer as well.
PEER_LIMITS = ("--timeout-keep-alive", "10", "--limit-concurrency", "500", "--backlog", "1024", "--no-server-header")


# -- the catalogue -------------------------------------------------------------------


def fill(settings: Settings, episodes: int, audio_seconds: float, seed: int = 11) -> None:
    """``episodes`` live episodes through the real store: transcript, chapters, named voices, WAV audio."""
    rng = np.random.default_rng(seed)
    store = Archive(settings)
    try:
        with tempfile.TemporaryDirectory() as sources:
            for number, date, title, lines in generate(episodes * PER_EPISODE, seed=seed):
                cast = list(dict.fromkeys(person for person, *_ in lines))
                labels = {person: f"SPEAKER_{index + 1}" for index, person in enumerate(cast)}
                utterances = [Utterance(labels[person], start, start + 14.0, text)
                              for person, _, start, text in lines]
                end = lines[-1][2] + 15.0
                audio = _audio(Path(sources) / f"{number}.wav", 180 + 7 * number, audio_seconds, rng)
                voices = [Voice(label, tuple(rng.standard_normal(8)), end / len(cast)) for label in labels.values()]
                meta = EpisodeMeta(title, SUBJECTS[lines[0][1]][0],
                                   min(dt.date.fromisoformat(date), latest_live_date()), episode_number=number + 1,
                                   season=1)
                saved = store.save_episode(meta, SourceAudio(audio, file_sha256(audio), "wav", "audio/wav", end),
                                           utterances, voices, _chapters(lines, end))
                for position, person in enumerate(cast):
                    store.name_speaker(saved.id, labels[person], *person, host=position == 0)
    finally:
        store.close()


def _audio(path: Path, pitch: float, seconds: float, rng: np.random.Generator) -> Path:
    """A tone with a little noise: each episode its own file (media are stored by content hash)."""
    time_axis = np.arange(int(seconds * RATE)) / RATE
    return write_wav(path, 0.2 * np.sin(2 * np.pi * pitch * time_axis) + 0.01 * rng.standard_normal(time_axis.size))


def _chapters(lines: list, end: float) -> list[Chapter]:
    """One chapter per run of the same subject, as the topic stage would find them."""
    starts = [(start, subject) for index, (_, subject, start, _) in enumerate(lines)
              if index == 0 or lines[index - 1][1] != subject]
    bounds = [start for start, _ in starts[1:]] + [end]
    return [Chapter(start, stop, subject.capitalize(), tuple(subject.split()))
            for (start, subject), stop in zip(starts, bounds, strict=True)]


def episode_count(settings: Settings) -> int:
    """Episodes already in the archive, without creating a database where there is none."""
    if settings.database_url is None and not (settings.data_dir / "parole.db").exists():
        return 0
    database = Database(settings)
    try:
        with database.session() as session:
            return session.scalar(select(func.count(Episode.id)))
    finally:
        database.dispose()


# -- what the clients ask for --------------------------------------------------------


@dataclass(frozen=True)
class EpisodeTarget:
    slug: str
    audio_path: str
    audio_size: int


@dataclass(frozen=True)
class Catalogue:
    """What the clients can ask for, as the running site lists it."""

    episodes: list[EpisodeTarget]
    people: list[str]


def discover(base_url: str) -> tuple[Catalogue, bytes]:
    """The live episodes, their audio sizes and the people, from the API; and the home page for the peer."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        listed = client.get("/api/episodes").raise_for_status().json()
        episodes = []
        for item in listed:
            path = httpx.URL(item["audio_url"]).path
            size = int(client.head(path).raise_for_status().headers["content-length"])
            episodes.append(EpisodeTarget(item["slug"], path, size))
        people = sorted({guest["slug"] for item in listed for guest in item["guests"]})
        home = client.get("/").raise_for_status().content
    if not episodes or not people:
        raise SystemExit("L'archive ne contient aucun épisode en ligne avec des personnes nommées.")
    return Catalogue(episodes, people), home


@dataclass(frozen=True)
class Planned:
    kind: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    length: int | None = None  # the exact body length expected (ranges)


@dataclass
class ClientState:
    rng: random.Random
    etag: str | None = None  # what a podcast app keeps from its last full download of the feed


def plan_parole(catalogue: Catalogue, state: ClientState) -> Planned:
    rng = state.rng
    kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    episode = rng.choice(catalogue.episodes)
    if kind in ("recherche", "api recherche"):
        params = {"q": rng.choice(SEARCHES)}
        if rng.random() < 0.2:
            params["tri"] = "date"
        if rng.random() < 0.1:
            params["page"] = "2"
        return Planned(kind, "/recherche" if kind == "recherche" else "/api/search", params)
    if kind == "accueil":
        return Planned(kind, "/")
    if kind == "page épisode":
        params = {"q": rng.choice(WITHIN_EPISODE)} if rng.random() < 0.25 else {}
        return Planned(kind, f"/episodes/{episode.slug}", params)
    if kind == "page personne":
        return Planned(kind, f"/personnes/{rng.choice(catalogue.people)}")
    if kind == "flux":
        if state.etag and rng.random() < CONDITIONAL_FEED_SHARE:
            return Planned("flux (304)", "/feed.xml", headers={"If-None-Match": state.etag}, status=304)
        return Planned(kind, "/feed.xml")
    if kind == "audio (Range)":
        length = rng.choice(RANGE_LENGTHS)
        start = 0 if length == 2 else rng.randrange(episode.audio_size)
        end = start + length - 1
        return Planned(kind, episode.audio_path, headers={"Range": f"bytes={start}-{end}"}, status=206,
                       length=min(end, episode.audio_size - 1) - start + 1)
    return Planned(kind, f"/episodes/{episode.slug}/transcript.{rng.choice(TRANSCRIPT_FORMATS)}")


def plan_peer(_catalogue: Catalogue, _state: ClientState) -> Planned:
    return Planned("fichier statique", "/")


def problem(planned: Planned, response: httpx.Response) -> str | None:
    if response.status_code != planned.status:
        return f"statut {response.status_code} au lieu de {planned.status}"
    if planned.length is not None and len(response.content) != planned.length:
        return f"{len(response.content)} octets au lieu de {planned.length}"
    return None


# -- the load ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str
    milliseconds: float
    error: str | None
    url: str


@dataclass
class Run:
    outcomes: list[Outcome]
    seconds: float
    peak_memory: int = 0
    warm_up_errors: list[Outcome] = field(default_factory=list)

    @property
    def errors(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.error] + self.warm_up_errors


async def _client(base_url: str, plan: Callable[[Catalogue, ClientState], Planned], catalogue: Catalogue,
                  state: ClientState, until: float, timeout: float, outcomes: list[Outcome]) -> None:
    """One listener or app: one kept-alive connection, requests back to back until the time is up, no retry."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        while time.perf_counter() < until:
            planned = plan(catalogue, state)
            started = time.perf_counter()
            try:
                response = await client.get(planned.path, params=planned.params, headers=planned.headers)
                error = problem(planned, response)
                if planned.kind == "flux" and error is None:
                    state.etag = response.headers.get("etag")
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__} {failure}".strip()
            elapsed = (time.perf_counter() - started) * 1000
            outcomes.append(Outcome(planned.kind, elapsed, error, str(httpx.URL(planned.path, params=planned.params))))


async def _load(base_url: str, plan, catalogue: Catalogue, clients: int, seconds: float, timeout: float,
                seed: int) -> Run:
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_client(base_url, plan, catalogue, ClientState(random.Random(seed * 1000 + number)),
                                   until, timeout, outcomes) for number in range(clients)))
    return Run(outcomes, time.perf_counter() - started)


def _run(work: Coroutine[None, None, Run]) -> Run:
    """On uvloop when it is there, as the servers are: the clients then take less CPU from them."""
    try:
        from uvloop import new_event_loop
    except ImportError:
        new_event_loop = None
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(work)


def load(server: Server, plan, catalogue: Catalogue, args: argparse.Namespace, seconds: float) -> Run:
    """A warm-up (templates, searchers and the feed cache of every worker), then the measured run."""
    warm_up = _run(_load(server.base_url, plan, catalogue, args.clients, args.warmup, args.timeout,
                         args.seed + 1)) if args.warmup > 0 else Run([], 0)
    with PeakMemory(server.process.pid) as memory:
        run = _run(_load(server.base_url, plan, catalogue, args.clients, seconds, args.timeout, args.seed))
    run.peak_memory = memory.peak
    run.warm_up_errors = [outcome for outcome in warm_up.outcomes if outcome.error]  # they count too
    return run


# -- the report ----------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    label: str
    count: int
    per_second: float
    p50: float
    p95: float
    p99: float
    errors: int


def summarise(label: str, outcomes: list[Outcome], seconds: float) -> Line:
    times = [outcome.milliseconds for outcome in outcomes] or [0.0]
    return Line(label, len(outcomes), len(outcomes) / seconds, percentile(times, .5), percentile(times, .95),
                percentile(times, .99), sum(outcome.error is not None for outcome in outcomes))


def lines(run: Run, kinds: list[str], total_label: str) -> list[Line]:
    by_kind = [summarise(kind, [o for o in run.outcomes if o.kind == kind], run.seconds) for kind in kinds]
    return [line for line in by_kind if line.count] + [summarise(total_label, run.outcomes, run.seconds)]


def print_table(title: str, rows: list[Line]) -> None:
    print(f"\n{title}")
    print(f"{'requêtes':22} {'nombre':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'erreurs':>8}")
    for row in rows:
        print(f"{row.label:22} {row.count:8d} {row.per_second:8.1f} {row.p50:8.1f} {row.p95:8.1f} {row.p99:8.1f} "
              f"{row.errors:8d}")


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    memory = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{model.group(1).strip() if model else 'processeur inconnu'}, {os.cpu_count()} cœurs, "
            f"{int(memory.group(1)) / 1024 ** 2:.1f} Go de mémoire ; charge moyenne au départ : {load_average}")


def report(args: argparse.Namespace, engine: str, catalogue: Catalogue, parole: Run, peer: Run | None) -> int:
    kinds = [name for kind in WEIGHTS for name in ([kind, "flux (304)"] if kind == "flux" else [kind])]
    parole_rows = lines(parole, kinds, "total")
    print(f"\nMachine : {args.machine}")
    print(f"Archive : {len(catalogue.episodes)} épisodes, {len(catalogue.people)} personnes, moteur {engine}")
    print_table(f"Parole (parole serve --workers {args.workers}) : {args.clients} clients, "
                f"{parole.seconds:.0f} s (+ {args.warmup:g} s d'échauffement) — mémoire max "
                f"{parole.peak_memory / 1e6:.0f} Mo", parole_rows)
    if peer is not None:
        peer_row = lines(peer, ["fichier statique"], "total")[0]
        print_table(f"Pair (uvicorn --workers {args.workers}, Starlette FileResponse d'un fichier de "
                    f"{args.page_size / 1000:.0f} ko) : {args.clients} clients, {peer.seconds:.0f} s — mémoire max "
                    f"{peer.peak_memory / 1e6:.0f} Mo", [peer_row])
        total = parole_rows[-1]
        print(f"\nRapport Parole / pair : p99 {total.p99 / peer_row.p99:.1f} ; "
              f"requêtes/s {total.per_second / peer_row.per_second:.2f}")
    errors = [outcome for run in (parole, peer) if run for outcome in run.errors]
    warm_up_errors = sum(len(run.warm_up_errors) for run in (parole, peer) if run)
    if warm_up_errors:
        print(f"Erreurs pendant l'échauffement : {warm_up_errors}")
    examples = {(outcome.kind, outcome.error): outcome.url for outcome in reversed(errors)}
    for (kind, error), count in Counter((outcome.kind, outcome.error) for outcome in errors).most_common(10):
        print(f"erreur ×{count} : {kind} → {error} (par exemple {examples[kind, error]})")
    if errors:
        verdict = f"manqué ({len(errors)} erreurs)"
    elif args.clients < TARGET_CLIENTS or args.seconds < TARGET_SECONDS:
        verdict = f"non vérifié ici ({args.clients} clients pendant {args.seconds:g} s, sans erreur)"
    else:
        verdict = "atteint"
    print(f"Objectif ({TARGET_CLIENTS} clients pendant {TARGET_SECONDS} s sans erreur) : {verdict}")
    return 1 if errors else 0


# -- the command ---------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--peer-seconds", type=float, default=None, help="default: --seconds; 0 skips the peer")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers, for Parole and the peer alike")
    parser.add_argument("--episodes", type=int, default=40, help="episodes of a new catalogue")
    parser.add_argument("--audio-seconds", type=float, default=10, help="length of each episode's WAV file")
    parser.add_argument("--data", type=Path, help="data folder to reuse (built there when it holds no episode)")
    parser.add_argument("--engine", choices=["whoosh", "tantivy"], help="search engine (default: the settings')")
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a request counts as failed")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.workers < 1 or args.episodes < 1:
        parser.error("--clients, --seconds, --workers et --episodes doivent être positifs")
    args.machine = machine()  # before anything starts, so the load average is the others' load
    engine_env = {"PAROLE_SEARCH_ENGINE": args.engine} if args.engine else {}
    os.environ.update(engine_env)
    with tempfile.TemporaryDirectory(prefix="parole-load-") as folder:
        scratch = Path(folder)
        data = args.data or scratch / "data"
        settings = Settings(data_dir=data)
        if episode_count(settings) == 0:
            started = time.perf_counter()
            fill(settings, args.episodes, args.audio_seconds)
            print(f"Archive construite dans {data} : {args.episodes} épisodes en "
                  f"{time.perf_counter() - started:.0f} s")
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PAROLE_DATA_DIR": str(data), "PAROLE_BASE_URL": base_url, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "parole", "serve", "--port", str(port), "--workers", str(args.workers)]
        with running(command, env, scratch / "parole.log", port) as server:
            catalogue, home = discover(server.base_url)
            parole = load(server, plan_parole, catalogue, args, args.seconds)
            if parole.errors:
                print(f"Journal du serveur :\n{tail(server.log)}")
        peer = None
        peer_seconds = args.seconds if args.peer_seconds is None else args.peer_seconds
        if peer_seconds > 0:
            page = scratch / "page.html"
            page.write_bytes(home)
            args.page_size = len(home)
            port = free_port()
            command = [sys.executable, "-m", "uvicorn", "bench.load_peer:app", "--host", "127.0.0.1", "--port",
                       str(port), "--workers", str(args.workers), "--log-level", "warning", *PEER_LIMITS]
            with running(command, {**os.environ, "LOAD_PEER_FILE": str(page)}, scratch / "peer.log", port) as server:
                peer = load(server, plan_peer, catalogue, args, peer_seconds)
        return report(args, settings.search_engine, catalogue, parole, peer)


if __name__ == "__main__":
    sys.exit(main())
