"""Topic segmentation: Pk and WindowDiff of the default method against its fallback and a naive split.

The corpus (bench/topic_corpus.py) joins passages on clearly different subjects of the
programme's world, with and without spoken transitions. Each sentence becomes an
utterance lasting 0.4 s per word; the host speaks the transitions and opening questions,
a guest everything else, as in the programme. Measured in the same run:

- USE embeddings, automatic count (the default of ``parole ingest``);
- TF-IDF, automatic count (the fallback when the embedding package is absent);
- both with the true number of chapters given (dynamic programming);
- an equal-length split with the true number of chapters (the naive peer).

    python bench/topics.py

Target: Pk <= 0.15 for the default method. Lower is better for both measures.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archive.records import Utterance  # noqa: E402
from archive.settings import Settings  # noqa: E402
from bench.topic_corpus import TOPIC_LEADS, TRANSITIONS, Document, build_documents  # noqa: E402
from ingest.topics import segment  # noqa: E402

SECONDS_PER_WORD = 0.4


def as_utterances(document: Document) -> tuple[list[Utterance], float]:
    host_lines = set(TRANSITIONS) | set(TOPIC_LEADS.values())
    utterances, position = [], 0.0
    for sentence in document.sentences:
        length = SECONDS_PER_WORD * len(sentence.split())
        speaker = "host" if sentence in host_lines else "guest"
        utterances.append(Utterance(speaker, position, position + length, sentence))
        position += length + 0.3
    return utterances, position


def labels(boundaries: list[int], n: int) -> list[int]:
    """Segment number of each sentence."""
    result, segment_number, cuts = [], 0, set(boundaries)
    for index in range(n):
        if index in cuts:
            segment_number += 1
        result.append(segment_number)
    return result


def pk(reference: list[int], hypothesis: list[int], n: int) -> float:
    ref, hyp = labels(reference, n), labels(hypothesis, n)
    k = max(2, round(n / (len(reference) + 1) / 2))
    probes = [(ref[i] == ref[i + k]) != (hyp[i] == hyp[i + k]) for i in range(n - k)]
    return sum(probes) / len(probes)


def window_diff(reference: list[int], hypothesis: list[int], n: int) -> float:
    k = max(2, round(n / (len(reference) + 1) / 2))
    ref, hyp = set(reference), set(hypothesis)
    windows = [sum(1 for b in ref if i < b <= i + k) != sum(1 for b in hyp if i < b <= i + k) for i in range(n - k)]
    return sum(windows) / len(windows)


def equal_split(n: int, count: int) -> list[int]:
    return [round(n * part / count) for part in range(1, count)]


def main() -> None:
    documents = build_documents()
    min_share = Settings().chapter_min_share
    methods = {
        "USE, nombre automatique (défaut)": lambda u, d, c: segment(u, d, min_share, None, "embedding"),
        "TF-IDF, nombre automatique (repli)": lambda u, d, c: segment(u, d, min_share, None, "tfidf"),
        "USE, nombre connu": lambda u, d, c: segment(u, d, min_share, c, "embedding"),
        "TF-IDF, nombre connu": lambda u, d, c: segment(u, d, min_share, c, "tfidf"),
        "découpage égal, nombre connu": lambda u, d, c: equal_split(len(u), c),
    }
    segment(*as_utterances(documents[0]), min_share, None, "embedding")  # load the encoder once
    scores: dict[str, dict[str, list[float]]] = {name: {} for name in methods}
    sentence_total = sum(len(d.sentences) for d in documents)
    for name, method in methods.items():
        for document in documents:
            utterances, duration = as_utterances(document)
            found = method(utterances, duration, len(document.boundaries) + 1)
            style = document.name.split("(")[1].split(",")[0]
            n = len(document.sentences)
            scores[name].setdefault("pk", []).append(pk(document.boundaries, found, n))
            scores[name].setdefault("wd", []).append(window_diff(document.boundaries, found, n))
            scores[name].setdefault(f"pk {style}", []).append(pk(document.boundaries, found, n))

    styles = sorted({key[3:] for key in scores[next(iter(scores))] if key.startswith("pk ")})
    print(f"{len(documents)} documents, {sentence_total} phrases, styles : {', '.join(styles)}")
    header = f"{'méthode':36} {'Pk':>6} {'WinDiff':>8} " + " ".join(f"{'Pk ' + s:>22}" for s in styles)
    print(header)
    for name in methods:
        row = scores[name]
        by_style = " ".join(f"{statistics.mean(row['pk ' + s]):22.3f}" for s in styles)
        print(f"{name:36} {statistics.mean(row['pk']):6.3f} {statistics.mean(row['wd']):8.3f} {by_style}")
    default = statistics.mean(scores["USE, nombre automatique (défaut)"]["pk"])
    naive = statistics.mean(scores["découpage égal, nombre connu"]["pk"])
    print(f"\nRapport Pk défaut / découpage égal : {default / naive:.2f} (objectif Pk défaut <= 0.15 : "
          f"{'atteint' if default <= 0.15 else 'manqué'})")


if __name__ == "__main__":
    main()
