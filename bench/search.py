"""Search speed on a large archive: both engines of the site against SQLite FTS5, same queries.

A realistic corpus is generated: episodes of 60 utterances of about 40 French words, built
from the programme's subjects (bench/topic_corpus.py), each episode with 3 to 5 chapters,
named speakers with roles and organisations, and a date between 2015 and 2026. Sizes:
60,000 utterances (1,000 episodes, about 2.4 M words) and 300,000.

Whoosh and tantivy: the full results page as ``/recherche`` builds it (archive.search.search:
all matching passages counted for four facets and per episode, 20 passages ranked, grouped by
episode, with highlighted snippets, matching episodes and chapters on the first page). Both
indexes are built from the same documents the store gives them. FTS5 (``unicode61
remove_diacritics 2``), the peer: the same page in SQL (bm25 ranking, snippet(), facet counts
with GROUP BY over the matches). Fuzzy queries have no FTS5 counterpart.

    python bench/search.py [--sizes 60000 300000] [--repeat 3] [--engines whoosh tantivy]

Target for the full page: p95 <= 50 ms at 60k utterances, <= 150 ms at 300k.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archive.search import SearchRequest, search  # noqa: E402
from archive.tantivy_index import TantivyIndex  # noqa: E402
from archive.whoosh_index import WhooshIndex  # noqa: E402
from bench.topic_corpus import SUBJECTS  # noqa: E402

PER_EPISODE = 60
PEOPLE = [("Jo Spiegel", "maire", "Ville de Kingersheim"), ("Camila Masetti", "experte numérique", "Région Grand Est"),
          ("Nadia Benali", "DRH", "Département du Nord"), ("Paul Girard", "policier municipal", "Ville de Roubaix"),
          ("Léa Martin", "bibliothécaire", "Communauté de communes du Val"),
          ("Marc Durand", "directeur technique", "Ville de Saint-Aubin"),
          ("Inès Morel", "directrice générale des services", "Ville de Lorient"),
          ("Hugo Petit", "chargé de mission climat", "Métropole de Lyon")]

QUERIES = {
    "terme": ["budget", "recrutement", "médiathèque", "collectivite", "apprentis", "vidéoprotection", "elus"],
    "ET": ["budget commune", "participation habitants", "formation agents", "police municipale nuit",
           "école cantine enfants"],
    "phrase": ['"conseil municipal"', '"participation citoyenne"', '"maison de santé"', '"police municipale"'],
    "flou": ["recrutemnt", "mediatheqe", "partisipation citoyenne", "budjet"],
}


def generate(size: int, seed: int = 5):
    """Episodes as (meta, utterances) built from the corpus sentences, deterministically."""
    rng = random.Random(seed)
    subjects = sorted(SUBJECTS)
    for episode in range(size // PER_EPISODE):
        year = rng.randint(2015, 2026)
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        chosen = rng.sample(subjects, rng.randint(3, 5))
        cast = rng.sample(PEOPLE, 3)
        utterances = []
        for number in range(PER_EPISODE):
            subject = chosen[min(len(chosen) - 1, number * len(chosen) // PER_EPISODE)]
            text = " ".join(rng.sample(SUBJECTS[subject], 2))
            utterances.append((cast[number % 3], subject, number * 15.0, text))
        yield episode, date, f"Épisode {episode} : {' et '.join(chosen[:2])}", utterances


def documents(size: int):
    """The index documents of the corpus, shaped as archive.indexing.episode_documents makes them."""
    for episode, date, title, utterances in generate(size):
        common = {"episode_id": str(episode), "slug": f"episode-{episode}", "date": date, "year": date[:4],
                  "episode_title": title}
        cast = sorted({name for (name, _, _), *_ in utterances})
        yield {**common, "doc_id": f"e{episode}", "kind": "episode", "title": title, "description": "",
               "guests": " ; ".join(cast), "start_ms": 0, "end_ms": PER_EPISODE * 15_000}
        subjects = list(dict.fromkeys(subject for _, subject, _, _ in utterances))
        for number, subject in enumerate(subjects):
            starts = [start for _, s, start, _ in utterances if s == subject]
            yield {**common, "doc_id": f"c{episode}-{number}", "kind": "chapter", "chapter_title": subject.capitalize(),
                   "keywords": subject, "start_ms": int(starts[0] * 1000), "end_ms": int(starts[-1] * 1000) + 15_000}
        for number, ((name, role, organisation), subject, start, text) in enumerate(utterances):
            yield {**common, "doc_id": f"u{episode}-{number}", "kind": "utterance", "text": text,
                   "speaker": name, "person_slug": name.lower().replace(" ", "-"), "person_name": name,
                   "person_role": role, "organisation": organisation, "organisation_key": organisation,
                   "who": f"{name} {role} {organisation}", "chapter": subject.capitalize(),
                   "chapter_key": subject.capitalize(), "start_ms": int(start * 1000),
                   "end_ms": int(start * 1000) + 14000}


ENGINES = {"whoosh": WhooshIndex, "tantivy": TantivyIndex}


def build(engine: str, root: Path, size: int) -> tuple[object, float]:
    index = ENGINES[engine](root)
    started = time.perf_counter()
    if engine == "whoosh":
        index.rebuild_from(documents(size), procs=2)  # both cores: a 300k build otherwise takes 20 min
    else:
        index.rebuild_from(documents(size))
    return index, time.perf_counter() - started


def build_fts5(path: Path, size: int) -> tuple[sqlite3.Connection, float]:
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE passages(id INTEGER PRIMARY KEY, episode INTEGER, date TEXT, year TEXT, title TEXT,
                              speaker TEXT, organisation TEXT, chapter TEXT, start REAL, text TEXT);
        CREATE VIRTUAL TABLE passages_fts USING fts5(text, content='passages', content_rowid='id',
                                                     tokenize='unicode61 remove_diacritics 2');
    """)
    rows = []
    for episode, date, title, utterances in generate(size):
        for (name, _role, organisation), subject, start, text in utterances:
            rows.append((episode, date, date[:4], title, name, organisation, subject.capitalize(), start, text))
    db.executemany("INSERT INTO passages(episode, date, year, title, speaker, organisation, chapter, start, text) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')")
    db.commit()
    return db, time.perf_counter() - started


def fts5_page(db: sqlite3.Connection, query: str) -> int:
    """The same page in SQL: facets over all matches, 20 best passages with snippets, grouped."""
    match = " AND ".join(part if part.startswith('"') else f'"{part}"'
                         for part in re.findall(r'"[^"]+"|\w+', query))
    ids = [row[0] for row in db.execute("SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?", (match,))]
    if not ids:
        return 0
    db.execute("DROP TABLE IF EXISTS temp.matched")
    db.execute("CREATE TEMP TABLE matched(id INTEGER PRIMARY KEY)")
    db.executemany("INSERT INTO matched VALUES (?)", ((i,) for i in ids))
    for column in ("speaker", "organisation", "chapter", "year", "episode"):
        db.execute(f"SELECT p.{column}, count(*) FROM passages p JOIN matched m ON m.id = p.id "
                   f"GROUP BY p.{column} ORDER BY count(*) DESC LIMIT 12").fetchall()
    page = db.execute("SELECT p.episode, p.title, p.start, snippet(passages_fts, 0, '<mark>', '</mark>', ' … ', 24) "
                      "FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid "
                      "WHERE passages_fts MATCH ? ORDER BY bm25(passages_fts) LIMIT 20", (match,)).fetchall()
    groups: dict[int, list] = {}
    for episode, *rest in page:
        groups.setdefault(episode, []).append(rest)
    return len(ids)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def measure(size: int, repeat: int, folder: Path, engines: list[str]) -> None:
    indexes, builds = {}, {}
    for engine in engines:
        indexes[engine], builds[engine] = build(engine, folder / f"{engine}-{size}", size)
    db, builds["FTS5"] = build_fts5(folder / f"fts-{size}.db", size)
    names = [*engines, "FTS5"]
    print(f"\n{size} passages ({size // PER_EPISODE} épisodes) — construction : "
          + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in builds.items()))
    print(f"{'requêtes':10} " + " ".join(f"{name + ' p50':>13} {'p95':>7}" for name in names)
          + f" {'passages trouvés':>17}")
    every: dict[str, list[float]] = {name: [] for name in names}
    for kind, queries in QUERIES.items():
        times: dict[str, list[float]] = {name: [] for name in names}
        found = []
        for query in queries:
            request = SearchRequest(text=query)
            for engine in engines:
                search(indexes[engine], request)  # warm the searcher and caches once
            for _ in range(repeat):
                for engine in engines:
                    times[engine].append(timed(partial(search, indexes[engine], request)))
                if kind != "flou":
                    times["FTS5"].append(timed(partial(fts5_page, db, query)))
            found.append(search(indexes[engines[0]], request).passage_count)
        cells = []
        for name in names:
            every[name] += times[name]
            cells.append(f"{percentile(times[name], .5):13.1f} {percentile(times[name], .95):7.1f}" if times[name]
                         else f"{'—':>13} {'—':>7}")
        print(f"{kind:10} " + " ".join(cells) + f" {statistics.median(found):17.0f}")
    print(f"{'tout':10} " + " ".join(f"{percentile(every[n], .5):13.1f} {percentile(every[n], .95):7.1f}"
                                     for n in names))
    target = 50 if size <= 60_000 else 150
    fts_p95 = percentile(every["FTS5"], .95)
    for engine in engines:
        p95 = percentile(every[engine], .95)
        print(f"{engine} : p95 {p95:.1f} ms, rapport p95 {engine} / FTS5 {p95 / fts_p95:.2f} ; "
              f"objectif p95 <= {target} ms : {'atteint' if p95 <= target else 'manqué'}")
    db.close()
    for engine in engines:
        shutil.rmtree(folder / f"{engine}-{size}", ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[60_000, 300_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", nargs="+", choices=sorted(ENGINES), default=["whoosh", "tantivy"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            measure(size, args.repeat, Path(folder), args.engines)


if __name__ == "__main__":
    main()
