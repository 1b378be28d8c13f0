"""The app's pages over a results database made by hand (no analysis runs): History's search
and filters, My trend, Cohort, a report and a feedback sheet served from the app's folder,
swapping roles and deleting an analysis with everything it made."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402
from test_feedback import consultation  # noqa: E402

from pipeline.app import AppConfig, create_app  # noqa: E402
from pipeline.app.security import REPORT_CSP  # noqa: E402
from pipeline.outputs import write_outputs  # noqa: E402
from pipeline.report import build_report  # noqa: E402
from pipeline.store import Store  # noqa: E402

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def client(tmp_path):
    config = AppConfig(root=tmp_path / "app", port=8000, start_jobs=False)
    app = create_app(config)
    with Store(config.db) as store:
        for i in range(3):
            r = consultation(f"/data/visit{i}.wav", str(i) * 64, share=i * 4.0)
            r.created = f"2026-11-2{i}T09:00:00+00:00"
            out = config.results / f"job{i}"
            write_outputs(r, out, extra=build_report(r, out / "report.html", include_audio=False))
            labels = {
                "clinician": "Dr Morgan" if i < 2 else "Dr Lee",
                "station": str(3 + i // 2),
                "date": f"2026-11-2{i}",
            }
            store.record(r, labels, result_path=str(out / "result.json"))
    with TestClient(app, base_url=BASE, follow_redirects=False) as c:
        c.get(f"/?token={config.token}")
        c.config = config
        yield c


def changes(client):
    return {"X-CSRF-Token": client.config.csrf, "Origin": BASE}


def test_history_searches_and_filters(client):
    page = client.get("/history").text
    assert page.count('<tr data-id="') == 3 and "Every consultation analysed in this app (3)" in page
    assert client.get("/history?q=lee").text.count('<tr data-id="') == 1
    assert client.get("/history?q=visit1").text.count('<tr data-id="') == 1
    assert client.get("/history?label=station&value=3").text.count('<tr data-id="') == 2
    assert client.get("/history?since=2026-11-21").text.count('<tr data-id="') == 2
    assert client.get("/history?since=2026-11-21&until=2026-11-21").text.count('<tr data-id="') == 1
    assert "No consultation matches" in client.get("/history?q=nobody").text
    assert "Clinician: Dr Morgan" in page and "Station: 3" in page


def test_my_trend_draws_each_headline_number_over_time(client):
    page = client.get("/trend?label=clinician&value=Dr+Morgan").text
    assert "The headline numbers of 2 consultations" in page
    assert page.count("<polyline") >= 4 and page.count('<a href="/r/') >= 8
    assert "Langewitz" in page  # what to compare the opening account with
    assert "Nothing to show yet" in client.get("/trend?q=nobody").text


def test_the_cohort_page_links_into_the_app(client):
    r = client.get("/cohort?group_by=clinician")
    assert r.status_code == 200 and r.headers["content-security-policy"] == REPORT_CSP
    assert "Cohort report: 3 consultations by clinician" in r.text
    assert 'href="/r/1/report.html"' in r.text and "Back to the app" in r.text
    assert "results/job" not in r.text  # no path on disk left in a link


def test_reports_and_feedback_sheets_are_served(client):
    r = client.get("/r/2/report.html")
    assert r.status_code == 200 and "Consultation review: visit1.wav" in r.text
    assert r.headers["content-security-policy"] == REPORT_CSP
    r = client.get("/r/2/feedback.html")
    assert r.status_code == 200 and "Cohort median (3)" in r.text and "<dd>Dr Morgan</dd>" in r.text
    assert client.get("/r/9/report.html").status_code == 404


def test_swap_roles_and_delete(client):
    before = client.get("/r/1/report.html").text
    assert "set by hand" not in before
    r = client.post("/api/analyses/1/swap-roles", headers=changes(client))
    assert r.status_code == 200 and r.json() == {"ok": True}
    with Store(client.config.db) as store:
        ids = list(store.frame()["id"])
    new_id = max(ids)  # recorded again (same recording, same options)
    assert "set by hand (clinician and patient swapped)" in client.get(f"/r/{new_id}/report.html").text
    folder = client.config.results / "job0"
    assert folder.is_dir()
    r = client.post(f"/api/analyses/{new_id}/delete", headers=changes(client))
    assert r.status_code == 200 and r.json() == {"ok": True, "deleted": "visit0.wav"}
    assert not folder.exists()
    with Store(client.config.db) as store:
        assert len(store.frame()) == 2
    assert client.post(f"/api/analyses/{new_id}/delete", headers=changes(client)).status_code == 404


@pytest.mark.models  # CAM++ makes the voice print
def test_voices_enrol_list_and_remove(client, tmp_path, monkeypatch):
    import tempfile

    from helpers import sample_clip

    monkeypatch.setenv("ATTUNE_DATA_DIR", str(tmp_path / "data"))
    clip = sample_clip(tmp_path / "me.wav", 0, 8)
    scratch = Path(tempfile.gettempdir())
    before = set(scratch.glob("attune-voice-*"))
    r = client.post(
        "/api/voices",
        files={"file": ("me.wav", clip.read_bytes())},
        data={"name": "Dr Morgan", "role": "clinician"},
        headers=changes(client),
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Dr Morgan" and r.json()["speech_s"] >= 3
    page = client.get("/voices").text
    assert "<td>Dr Morgan</td><td>clinician</td>" in page
    again = client.post(
        "/api/voices",
        files={"file": ("me.wav", clip.read_bytes())},
        data={"name": "Dr Morgan"},
        headers=changes(client),
    )
    assert again.status_code == 400 and "already enrolled" in again.json()["error"]
    assert set(scratch.glob("attune-voice-*")) == before  # the uploaded copy is not kept
    r = client.post("/api/voices/remove", json={"name": "Dr Morgan"}, headers=changes(client))
    assert r.status_code == 200 and "No voices enrolled" in client.get("/voices").text
