from __future__ import annotations


def test_healthz_reports_database_storage_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == report["database"] == report["storage"] == "ok"
    # The tests drive the worker themselves: none runs in this process.
    assert report["queue"] == {
        "status": "ok",
        "engine": "embedded",
        "photos_waiting": 0,
        "worker_in_this_process": False,
    }


def test_security_headers_on_every_response(client):
    for path in ("/healthz", "/login", "/static/css/app.css"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page", headers={"accept-language": "nl"})
    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.text


def test_unknown_api_path_is_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_openapi_documents_the_token_endpoint(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/auth/token" in spec["paths"]
    assert "/api/v1/organisation" in spec["paths"]
