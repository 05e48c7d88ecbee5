"""Protected children: the pure rule that keeps a photo of them from every use but staff's.

Some children must not be locatable at all (family-law arrangements, foster care, a protection
order). A blurred face does not protect them: a shirt number, a name on a team sheet, the event
and the place give them away. So a photo that shows them, or may show them, is hidden whole in
every use; only the staff photo page says why. No database, no clock: callers pass what is known.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import replace

from consentlens.consent.policy import FaceVerdict, PhotoVerdict, Reason, VerdictAction
from consentlens.core.i18n import N_


class Protection(enum.StrEnum):
    """Why a photo is hidden for a protected child, if it is."""

    NONE = ""
    IDENTIFIED = "identified"  # a face names a protected child
    POSSIBLE = "possible"  # a face names nobody, at an event of a protected child's group


REASONS: dict[Protection, str] = {
    Protection.IDENTIFIED: N_("Hidden: a protected child is in this photo."),
    Protection.POSSIBLE: N_(
        "Hidden: a protected child may be in this photo (an unidentified face at an event of "
        "their group)."
    ),
}
FACE_REASON = N_("The whole photo is hidden (protected child).")


def photo_protection(
    *,
    named_child_ids: Iterable[int],
    unidentified_faces: int,
    event_group_ids: Iterable[int],
    protected_groups: Mapping[int, frozenset[int]],
) -> Protection:
    """Whether a photo shows, or may show, a protected child.

    `named_child_ids`: children its faces name (whatever their consent: being named is enough);
    `unidentified_faces`: faces that name nobody (unknown, uncertain, too small, awaiting review);
    `event_group_ids`: the groups of the photo's event; `protected_groups`: each protected child
    of the organisation and the groups they are in.
    """
    if any(child_id in protected_groups for child_id in named_child_ids):
        return Protection.IDENTIFIED
    if unidentified_faces > 0:
        groups = frozenset(event_group_ids)
        if any(groups & child_groups for child_groups in protected_groups.values()):
            return Protection.POSSIBLE
    return Protection.NONE


def protected_verdict(*, verdict: PhotoVerdict, protection: Protection) -> PhotoVerdict:
    """The verdict as it stands once `protection` is applied: hidden whole, every face covered."""
    if protection is Protection.NONE:
        return verdict
    return replace(
        verdict,
        action=VerdictAction.HIDE,
        faces_to_blur=(),
        reason=Reason(REASONS[protection]),
        faces=tuple(
            FaceVerdict(face.face_id, False, Reason(FACE_REASON)) for face in verdict.faces
        ),
    )
