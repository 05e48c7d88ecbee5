"""Consent's names in the page templates: how a decision was recorded, what an answer is."""

from __future__ import annotations

from jinja2 import Environment

from consentlens.core.i18n import N_

METHOD_LABELS = {
    "online": N_("Online"),
    "paper": N_("Paper form"),
    "staff": N_("Recorded by staff"),
}

STATE_LABELS = {
    "all": N_("All answers"),
    "incomplete": N_("Not (yet) yes"),
    "granted": N_("Yes"),
    "refused": N_("No"),
    "no_answer": N_("No answer"),
    "expired": N_("Expired"),
    "waiting": N_("Waiting"),
    "other": N_("Neither yes nor no"),
    "unanswered": N_("Not answered yet"),
}


def install(environment: Environment) -> None:
    """Make the consent labels available to every template (called by `consentlens.wiring`)."""
    environment.globals["method_labels"] = METHOD_LABELS
    environment.globals["state_labels"] = STATE_LABELS
