"""Staff cannot record an answer through the API as if the guardian had given it online."""

from __future__ import annotations

from consentlens.auth.models import Role
from consentlens.consent.uses import Use
from tests import factories
from tests.conftest import bearer


def test_the_api_refuses_online_as_the_method(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    parent = factories.user(db, org, Role.GUARDIAN)
    kid = factories.child(db, org, guardians=(parent,))
    headers = bearer(client, staff.email, factories.PASSWORD)
    body = {"use": Use.WEBSITE, "decision": "granted", "guardian_id": parent.id}
    refused = client.post(
        f"/api/v1/children/{kid.id}/consents", json={**body, "method": "online"}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "method"
    recorded = client.post(
        f"/api/v1/children/{kid.id}/consents", json={**body, "method": "staff"}, headers=headers
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["method"] == "staff"
