"""Faces: detection, matching, analysis, enrolment, review and the verdicts they lead to."""
