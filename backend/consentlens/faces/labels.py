"""The words staff see for a photo's analysis status, a face's state and a verdict's action.

One dictionary each, used by every page (event, photo, staff gallery), so "blur" reads the same
everywhere.
"""

from __future__ import annotations

from consentlens.consent.policy import VerdictAction
from consentlens.core.i18n import N_
from consentlens.faces.models import FaceState
from consentlens.photos.models import PhotoStatus

STATUS_LABELS = {
    PhotoStatus.PENDING.value: N_("Queued"),
    PhotoStatus.PROCESSING.value: N_("Analysing"),
    PhotoStatus.READY.value: N_("Ready"),
    PhotoStatus.NEEDS_REVIEW.value: N_("Needs review"),
    PhotoStatus.FAILED.value: N_("Failed"),
}
FACE_STATE_LABELS = {
    FaceState.IDENTIFIED.value: N_("Recognised"),
    FaceState.CONFIRMED.value: N_("Confirmed by staff"),
    FaceState.UNCERTAIN.value: N_("Uncertain"),
    FaceState.UNKNOWN.value: N_("Not recognised"),
    FaceState.TOO_SMALL.value: N_("Too small to recognise"),
    FaceState.NOT_A_FACE.value: N_("Not a face"),
}
ACTION_LABELS = {
    VerdictAction.SHOW.value: N_("Shown"),
    VerdictAction.BLUR.value: N_("Shown, faces blurred"),
    VerdictAction.HIDE.value: N_("Hidden"),
}
