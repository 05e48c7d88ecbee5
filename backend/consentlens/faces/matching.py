"""Who is this face: the nearest enrolled person by embedding distance, accepted only with a margin.

Pure: plain vectors in, a `MatchResult` with its reason out; no model, no database, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from consentlens.consent.policy import FaceStatus

PersonId = int | str


@dataclass(frozen=True, slots=True)
class MatchingRules:
    """Distance thresholds (Euclidean, dlib 128-D embeddings) of the identification decision.

    Measured (FACES.md, one reference per person): the same person lies at 0.36 on average and at
    most 0.61; the nearest stranger seen was 0.585, and many strangers sit at 0.62-0.65 from some
    enrolled person. dlib's customary 0.6 therefore matched 2 of 220 strangers: a stranger's face
    shown unblurred as a consented child, the one error this product must not make. 0.5 matched no
    stranger and found 97 of 99; children are recognised less reliably than the adults measured, so
    `strict` keeps a further 0.05 below that. Faces between `strict` and `loose` are not shown but
    offered to staff as a suggestion; `loose` sits just under the nearest stranger, so a suggestion
    is rarely a stranger. Past it a face is unknown: the same person up to 0.61 is then missed,
    which costs a blur, never a leak. The margin guards against look-alikes (siblings, twins):
    with two enrolled children both near a face, neither is taken on trust.
    """

    strict: float = 0.45
    loose: float = 0.58
    margin: float = 0.08

    def __post_init__(self) -> None:
        if not 0 < self.strict <= self.loose:
            raise ValueError("thresholds must satisfy 0 < strict <= loose")
        if self.margin < 0:
            raise ValueError("margin must not be negative")


@dataclass(frozen=True, slots=True)
class Reference:
    """One enrolled reference embedding of a person (a person may have several)."""

    person_id: PersonId
    embedding: Sequence[float]


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The identification of one face, with the distances it rests on and the reason."""

    status: FaceStatus
    # Identified person, or the suggestion for staff when uncertain; None otherwise.
    person_id: PersonId | None
    # Distance to the nearest person (minimum over their references); None without one.
    distance: float | None
    # Distance to the nearest *other* person; None when fewer than two people are enrolled.
    runner_up_distance: float | None
    reason: str


@dataclass(frozen=True, slots=True, eq=False)
class ReferenceSet:
    """An organisation's references prepared for matching; build once per job, match many faces."""

    # People in order of first appearance: ties in distance go to the earlier one.
    person_ids: tuple[PersonId, ...]
    # One row per reference, grouped by person; `starts[i]` is the first row of person i.
    matrix: np.ndarray
    starts: np.ndarray

    @classmethod
    def build(cls, references: Iterable[Reference]) -> ReferenceSet:
        """Group references per person and stack them into one matrix."""
        grouped: dict[PersonId, list[np.ndarray]] = {}
        for reference in references:
            grouped.setdefault(reference.person_id, []).append(_vector(reference.embedding))
        rows = [row for vectors in grouped.values() for row in vectors]
        dims = {row.shape[0] for row in rows}
        if len(dims) > 1:
            raise ValueError(f"reference embeddings differ in length: {sorted(dims)}")
        sizes = [len(vectors) for vectors in grouped.values()]
        starts = np.cumsum([0, *sizes[:-1]], dtype=np.intp) if sizes else np.empty(0, np.intp)
        matrix = np.vstack(rows) if rows else np.empty((0, 0))
        return cls(person_ids=tuple(grouped), matrix=matrix, starts=starts)

    def __len__(self) -> int:
        return len(self.person_ids)

    def person_distances(self, embedding: Sequence[float]) -> np.ndarray:
        """Per person, the distance from `embedding` to their nearest reference."""
        vector = _vector(embedding)
        if vector.shape[0] != self.matrix.shape[1]:
            raise ValueError(
                f"embedding has {vector.shape[0]} values, references have {self.matrix.shape[1]}"
            )
        distances = np.linalg.norm(self.matrix - vector, axis=1)
        return np.minimum.reduceat(distances, self.starts)


def _vector(values: Sequence[float]) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float64)
    if vector.ndim != 1 or vector.size == 0:
        raise ValueError("an embedding is a non-empty flat sequence of numbers")
    if not np.isfinite(vector).all():
        raise ValueError("an embedding must hold finite numbers only")
    return vector


def match_face(
    *,
    embedding: Sequence[float] | None,
    references: ReferenceSet | Iterable[Reference],
    rules: MatchingRules | None = None,
) -> MatchResult:
    """Identify a face among the enrolled references; anything short of sure is not identified."""
    rules = rules or MatchingRules()
    if embedding is None:
        return MatchResult(
            FaceStatus.TOO_SMALL, None, None, None, "The face is too small to recognise."
        )
    gallery = references if isinstance(references, ReferenceSet) else ReferenceSet.build(references)
    if not len(gallery):
        _vector(embedding)  # still reject malformed input, whatever the gallery
        return MatchResult(FaceStatus.UNKNOWN, None, None, None, "No one is enrolled.")

    per_person = gallery.person_distances(embedding)
    best = int(np.argmin(per_person))  # first of equals: the earliest enrolled
    distance = float(per_person[best])
    others = np.delete(per_person, best)
    runner_up = float(others.min()) if others.size else None
    person = gallery.person_ids[best]

    if distance > rules.loose:
        return MatchResult(
            FaceStatus.UNKNOWN,
            None,
            distance,
            runner_up,
            f"The nearest enrolled person is at {distance:.3f}, beyond {rules.loose}.",
        )
    if distance > rules.strict:
        return MatchResult(
            FaceStatus.UNCERTAIN,
            person,
            distance,
            runner_up,
            f"Distance {distance:.3f} is above {rules.strict} but within {rules.loose}.",
        )
    if runner_up is not None and runner_up - distance < rules.margin:
        return MatchResult(
            FaceStatus.UNCERTAIN,
            person,
            distance,
            runner_up,
            f"Distance {distance:.3f} is within {rules.strict}, but another person is only "
            f"{runner_up - distance:.3f} further (at least {rules.margin} needed).",
        )
    margin_text = (
        "no other person is enrolled"
        if runner_up is None
        else f"the next person is {runner_up - distance:.3f} further"
    )
    return MatchResult(
        FaceStatus.IDENTIFIED,
        person,
        distance,
        runner_up,
        f"Distance {distance:.3f} is within {rules.strict} and {margin_text}.",
    )
