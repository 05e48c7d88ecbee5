"""Grouping faces by likeness for review: complete linkage, so one face cannot chain two people."""

from __future__ import annotations

from consentlens.faces.grouping import group_similar


def test_alike_faces_are_grouped_largest_first():
    a1, a2, a3 = [0.0, 0.0], [0.1, 0.0], [0.0, 0.1]
    b1, b2 = [1.0, 1.0], [1.1, 1.0]
    assert group_similar(embeddings=[b1, a1, a2, b2, a3], threshold=0.5) == [[1, 2, 4], [0, 3]]


def test_a_face_between_two_people_does_not_join_them():
    left, middle, right = [0.0], [0.4], [0.8]
    groups = group_similar(embeddings=[left, right, middle], threshold=0.5)
    assert sorted(map(sorted, groups)) in ([[0], [1, 2]], [[0, 2], [1]])


def test_faces_without_embedding_stay_alone():
    assert group_similar(embeddings=[None, [0.0], None, [0.1]]) == [[1, 3], [0], [2]]


def test_nothing_to_group():
    assert group_similar(embeddings=[]) == []
