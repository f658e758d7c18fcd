"""Grouping voice embeddings into speakers, with the number of speakers found automatically.

Spectral clustering (numpy and scipy only) on a pruned cosine-affinity graph: each row keeps only its strongest
links, which removes the weak cross-speaker similarities; the eigengap of the graph
Laplacian gives the speaker count. Very short inputs use average-linkage clustering with a
distance threshold instead. Clusters whose centres are nearly the same voice are merged,
and crumbs too small to be a speaker are given to the closest real one.
"""

from __future__ import annotations

import numpy as np

MAX_SPEAKERS = 10
SPECTRAL_MIN_ITEMS = 20
PRUNE_KEEP = 0.15  # fraction of neighbours each row keeps (at least 6)
AGGLOMERATIVE_THRESHOLD = 0.55  # cosine distance: 1 - similarity
MERGE_SIMILARITY = 0.80
MIN_CLUSTER_SHARE = 0.03
MAX_SPECTRAL_ITEMS = 1_500
"""Spectral clustering holds several n × n matrices: past this many windows (about 20 minutes of
speech), an even sample of them is clustered and every window joins the nearest speaker found."""


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _pruned_affinity(embeddings: np.ndarray) -> np.ndarray:
    similarity = embeddings @ embeddings.T
    n = len(similarity)
    keep = max(6, int(round(PRUNE_KEEP * n)))
    affinity = np.zeros_like(similarity)
    # The strongest ``keep`` of each row, in any order (a partition, not a full sort: an hour has thousands of rows).
    strongest = np.argpartition(-similarity, keep - 1, axis=1)[:, :keep] if keep < n else np.tile(np.arange(n), (n, 1))
    rows = np.repeat(np.arange(n), keep)
    affinity[rows, strongest.ravel()] = similarity[rows, strongest.ravel()]
    affinity = np.clip(0.5 * (affinity + affinity.T), 0, None)
    np.fill_diagonal(affinity, 0.0)
    return affinity


def _kmeans(points: np.ndarray, count: int, attempts: int = 10) -> np.ndarray:
    """k-means (k-means++ starts), the best of several seeded attempts."""
    from scipy.cluster.vq import kmeans2

    best_labels, best_inertia = None, np.inf
    for seed in range(attempts):
        centres, labels = kmeans2(points, count, minit="++", seed=seed)
        inertia = float(((points - centres[labels]) ** 2).sum())
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels


def _spectral(embeddings: np.ndarray, count: int | None, min_speakers: int, max_speakers: int) -> np.ndarray:
    from scipy.linalg import eigh

    affinity = _pruned_affinity(embeddings)
    laplacian = np.diag(affinity.sum(axis=1)) - affinity
    del affinity
    upper = min(max(max_speakers, count or 0), len(embeddings) - 1)
    # Only the smallest eigenpairs are used: computing all of them for an hour of windows takes minutes and GBs.
    eigenvalues, eigenvectors = eigh(laplacian, subset_by_index=[0, upper], overwrite_a=True)
    if count is None:
        gaps = np.diff(eigenvalues[: upper + 1])
        count = int(np.argmax(gaps[min_speakers - 1:])) + min_speakers if len(gaps) >= min_speakers else 1
    if count <= 1:
        return np.zeros(len(embeddings), dtype=int)
    return _kmeans(eigenvectors[:, :count], count)


def _spectral_sampled(embeddings: np.ndarray, count: int | None, min_speakers: int,
                      max_speakers: int) -> np.ndarray:
    """Spectral clustering in bounded memory: on an even sample when there are too many windows."""
    if len(embeddings) <= MAX_SPECTRAL_ITEMS:
        return _spectral(embeddings, count, min_speakers, max_speakers)
    chosen = np.linspace(0, len(embeddings) - 1, MAX_SPECTRAL_ITEMS).round().astype(int)
    sample = embeddings[chosen]
    sample_labels = _spectral(sample, count, min_speakers, max_speakers)
    found = np.unique(sample_labels)
    centres = _normalise(np.stack([sample[sample_labels == label].mean(axis=0) for label in found]))
    return found[np.argmax(embeddings @ centres.T, axis=1)]


def _agglomerative(embeddings: np.ndarray, count: int | None) -> np.ndarray:
    """Average linkage on cosine distance, cut at a count or at a distance threshold."""
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(embeddings, method="average", metric="cosine")
    if count is not None:
        return fcluster(tree, t=count, criterion="maxclust") - 1
    return fcluster(tree, t=AGGLOMERATIVE_THRESHOLD, criterion="distance") - 1


def _centroids(embeddings: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    return {label: _normalise(embeddings[labels == label].mean(axis=0, keepdims=True))[0]
            for label in np.unique(labels)}


def _merge_close(embeddings: np.ndarray, labels: np.ndarray, min_speakers: int) -> np.ndarray:
    labels = labels.copy()
    while len(np.unique(labels)) > max(1, min_speakers):
        centres = _centroids(embeddings, labels)
        keys = list(centres)
        best, pair = -1.0, None
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                similarity = float(centres[a] @ centres[b])
                if similarity > best:
                    best, pair = similarity, (a, b)
        if pair is None or best < MERGE_SIMILARITY:
            break
        labels[labels == pair[1]] = pair[0]
    return labels


def _absorb_crumbs(embeddings: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    labels = labels.copy()
    total = weights.sum()
    while True:
        shares = {label: weights[labels == label].sum() / total for label in np.unique(labels)}
        small = [label for label, share in shares.items() if share < MIN_CLUSTER_SHARE]
        if not small or len(shares) <= 1:
            return labels
        crumb = min(small, key=lambda label: shares[label])
        centres = {k: v for k, v in _centroids(embeddings, labels).items() if k != crumb}
        for index in np.flatnonzero(labels == crumb):
            labels[index] = max(centres, key=lambda k: float(centres[k] @ embeddings[index]))


def cluster_speakers(
    embeddings: np.ndarray,
    weights: np.ndarray | None = None,
    num_speakers: int | None = None,
    min_speakers: int = 1,
    max_speakers: int = MAX_SPEAKERS,
) -> np.ndarray:
    """A speaker index for each embedding (0, 1, …; order arbitrary)."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1 or num_speakers == 1:
        return np.zeros(n, dtype=int)
    embeddings = _normalise(np.asarray(embeddings, dtype=np.float64))
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if num_speakers is not None:
        num_speakers = min(num_speakers, n)
    if n >= SPECTRAL_MIN_ITEMS:
        labels = _spectral_sampled(embeddings, num_speakers, min_speakers, max_speakers)
    else:
        labels = _agglomerative(embeddings, num_speakers)
    if num_speakers is None:
        labels = _merge_close(embeddings, labels, min_speakers)
        labels = _absorb_crumbs(embeddings, labels, weights)
    _, labels = np.unique(labels, return_inverse=True)
    return labels
