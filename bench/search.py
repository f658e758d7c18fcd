"""Search speed on a large archive: Whoosh (as the site uses it) against SQLite FTS5, same queries.

A realistic corpus is generated: episodes of 60 utterances of about 40 French words, built
from the programme's subjects (bench/topic_corpus.py), each episode with 3 to 5 chapters,
named speakers with roles and organisations, and a date between 2015 and 2026. Sizes:
60,000 utterances (1,000 episodes, about 2.4 M words) and 300,000.

Whoosh: the full results page as ``/recherche`` builds it (archive.search.search: all
matching passages counted for four facets, 20 passages ranked, grouped by episode, with
highlighted snippets). FTS5 (``unicode61 remove_diacritics 2``): the same page in SQL
(bm25 ranking, snippet(), facet counts with GROUP BY over the matches). Fuzzy queries have
no FTS5 counterpart and run on Whoosh only.

    python bench/search.py [--sizes 60000 300000] [--repeat 3]

Target for Whoosh's full page: p95 <= 50 ms at 60k utterances, <= 150 ms at 300k.
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archive.index import SearchIndex, build_schema  # noqa: E402
from archive.search import SearchRequest, search  # noqa: E402
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


def build_whoosh(root: Path, size: int) -> float:
    index = SearchIndex(root)
    started = time.perf_counter()
    ix = index.open()
    writer = ix.writer(limitmb=256)
    for episode, date, title, utterances in generate(size):
        common = {"episode_id": str(episode), "slug": f"episode-{episode}", "date": date, "year": date[:4],
                  "episode_title": title}
        writer.add_document(**common, doc_id=f"e{episode}", kind="episode", title=title, description="",
                            guests=", ".join(name for name, _, _ in {u[0] for u in utterances}), start_ms=0, end_ms=0)
        for number, ((name, role, organisation), subject, start, text) in enumerate(utterances):
            writer.add_document(**common, doc_id=f"u{episode}-{number}", kind="utterance", text=text,
                                speaker=name, person_slug=name.lower().replace(" ", "-"), person_name=name,
                                person_role=role, organisation=organisation, organisation_key=organisation,
                                chapter=subject.capitalize(), chapter_key=subject.capitalize(),
                                start_ms=int(start * 1000), end_ms=int(start * 1000) + 14000)
    writer.commit()
    return time.perf_counter() - started


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


def measure(size: int, repeat: int, folder: Path) -> None:
    whoosh_root = folder / f"whoosh-{size}"
    whoosh_build = build_whoosh(whoosh_root, size)
    db, fts_build = build_fts5(folder / f"fts-{size}.db", size)
    index = SearchIndex(whoosh_root)
    print(f"\n{size} passages ({size // PER_EPISODE} épisodes) — construction : Whoosh {whoosh_build:.0f} s, "
          f"FTS5 {fts_build:.0f} s")
    print(f"{'requêtes':10} {'Whoosh p50':>11} {'p95':>8} {'FTS5 p50':>10} {'p95':>8} {'passages trouvés':>18}")
    all_whoosh, all_fts = [], []
    for kind, queries in QUERIES.items():
        whoosh_times, fts_times, found = [], [], []
        for query in queries:
            search(index, SearchRequest(text=query))  # warm the searcher and caches once
            for _ in range(repeat):
                started = time.perf_counter()
                results = search(index, SearchRequest(text=query))
                whoosh_times.append((time.perf_counter() - started) * 1000)
                if kind != "flou":
                    started = time.perf_counter()
                    fts5_page(db, query)
                    fts_times.append((time.perf_counter() - started) * 1000)
            found.append(results.passage_count)
        all_whoosh += whoosh_times
        all_fts += fts_times
        fts = (f"{percentile(fts_times, .5):10.1f} {percentile(fts_times, .95):8.1f}" if fts_times
               else f"{'—':>10} {'—':>8}")
        print(f"{kind:10} {percentile(whoosh_times, .5):11.1f} {percentile(whoosh_times, .95):8.1f} {fts} "
              f"{statistics.median(found):18.0f}")
    p95_whoosh, p95_fts = percentile(all_whoosh, .95), percentile(all_fts, .95)
    target = 50 if size <= 60_000 else 150
    print(f"{'tout':10} {percentile(all_whoosh, .5):11.1f} {p95_whoosh:8.1f} {percentile(all_fts, .5):10.1f} "
          f"{p95_fts:8.1f}")
    print(f"Rapport p95 Whoosh / FTS5 : {p95_whoosh / p95_fts:.1f} ; objectif Whoosh p95 <= {target} ms : "
          f"{'atteint' if p95_whoosh <= target else 'manqué'}")
    db.close()
    shutil.rmtree(whoosh_root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[60_000, 300_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    assert "spell_text" in build_schema().names()
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            measure(size, args.repeat, Path(folder))


if __name__ == "__main__":
    main()
