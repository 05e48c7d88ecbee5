"""The scaled-out topology as plain processes (deploy/topology.py): 2 web processes, 2 workers on
procrastinate, the machine's PostgreSQL, SeaweedFS as the S3 store. A photo uploaded through one web
process is analysed by a worker and served by the other; its files are in the bucket only."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
import time
from pathlib import Path

import boto3
import httpx2
from PIL import Image

from tests.factories.photos import FACES

TOPOLOGY = Path(__file__).resolve().parents[2] / "deploy" / "topology.py"
DONE = {"ready", "needs_review"}


def load_topology():
    spec = importlib.util.spec_from_file_location("topology", TOPOLOGY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["topology"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def token(url: str) -> dict[str, str]:
    response = httpx2.post(
        f"{url}/api/v1/auth/token",
        data={"username": "admin@topology.test", "password": "topology-admin-2026"},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_an_upload_on_one_web_process_is_analysed_by_a_worker_and_served_by_the_other():
    topology = load_topology()
    with topology.running(storage="s3") as running:
        running.consentlens(
            "create-admin",
            "--email",
            "admin@topology.test",
            "--password",
            "topology-admin-2026",
            "--organisation",
            "KSV Topologie",
        )
        first, second = running.web
        auth = token(first)
        event = httpx2.post(
            f"{first}/api/v1/events", json={"name": "Match", "date": "2026-12-05"}, headers=auth
        )
        assert event.status_code == 201, event.text
        photo = FACES / "groups" / "obama_and_biden.jpg"
        uploaded = httpx2.post(
            f"{first}/api/v1/events/{event.json()['id']}/photos",
            files=[("files", (photo.name, photo.read_bytes(), "image/jpeg"))],
            headers=auth,
        )
        assert uploaded.status_code == 200, uploaded.text
        photo_id = uploaded.json()[0]["id"]

        other = token(second)
        deadline = time.monotonic() + 120
        status = ""
        while time.monotonic() < deadline:
            status = httpx2.get(f"{second}/api/v1/photos/{photo_id}", headers=other).json()[
                "status"
            ]
            if status in DONE:
                break
            time.sleep(0.5)
        assert status in DONE
        report = httpx2.get(f"{second}/healthz").json()
        assert report["queue"]["engine"] == "procrastinate"
        assert report["queue"]["photos_waiting"] == 0

        image = httpx2.get(
            f"{second}/api/v1/photos/{photo_id}/image",
            params={"use": "internal_gallery", "size": "thumb"},
            headers=other,
        )
        assert image.status_code == 200, image.text
        with Image.open(io.BytesIO(image.content)) as served:
            assert served.format == "JPEG"
            assert not served.getexif()
        logs = "".join(
            (running.root / f"worker{n}.log").read_text(errors="replace") for n in (1, 2)
        )
        bucket = boto3.client(
            "s3",
            endpoint_url=running.s3_endpoint,
            aws_access_key_id=running.env["CONSENTLENS_S3_ACCESS_KEY"],
            aws_secret_access_key=running.env["CONSENTLENS_S3_SECRET_KEY"],
            region_name="us-east-1",
        )
        keys = [o["Key"] for o in bucket.list_objects_v2(Bucket="consentlens").get("Contents", [])]
        assert any(key.startswith("originals/") for key in keys)
        assert any(key.startswith(f"derivatives/{photo_id}/") for key in keys)
        # Nothing stayed on the local disk but the scratch space of uploads in progress.
        media = running.root / "var" / "media"
        assert not list(media.glob("originals/**/*.jpg")) and not (media / "derivatives").exists()
        # A worker ran the photo's job (procrastinate's own log line).
        assert re.search(
            rf"Job photo-analysis\[\d+\]\(argument='{photo_id}'\) ended with status: Success", logs
        )
