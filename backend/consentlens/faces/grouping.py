"""Group faces that look alike, so one review choice can label the same person across an event.

Pure: embeddings in, groups of indices out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Tighter than the identification threshold: a group is only a proposal staff can split, but a
# group that mixes two people invites labelling both wrongly at once.
SAME_PERSON = 0.5


def group_similar(
    *, embeddings: Sequence[Sequence[float] | None], threshold: float = SAME_PERSON
) -> list[list[int]]:
    """Indices of `embeddings` grouped by complete linkage under `threshold`.

    A face joins a group only when it is within `threshold` of every face already in it, so one
    ambiguous face cannot chain two people together. Faces without an embedding stay alone.
    Groups keep input order, largest first.
    """
    groups: list[list[int]] = []
    vectors: list[np.ndarray | None] = [
        None if e is None else np.asarray(e, dtype=np.float64) for e in embeddings
    ]
    for index, vector in enumerate(vectors):
        if vector is None:
            groups.append([index])
            continue
        best: tuple[float, int] | None = None
        for number, group in enumerate(groups):
            members = [vectors[i] for i in group]
            if any(member is None for member in members):
                continue
            farthest = max(float(np.linalg.norm(vector - member)) for member in members)
            if farthest < threshold and (best is None or farthest < best[0]):
                best = (farthest, number)
        if best is None:
            groups.append([index])
        else:
            groups[best[1]].append(index)
    return sorted(groups, key=lambda group: (-len(group), group[0]))
