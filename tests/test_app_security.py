"""Issue 15 item 2: the app's security rules, each tried the way an attacker would (no token,
an old token, a foreign Host, a cross-origin change, no CSRF key, a hostile file name, a file
too large, a file that is not audio), with the web layer only (no analysis runs)."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from pipeline.app import AppConfig, create_app  # noqa: E402
from pipeline.app.jobs import JobQueue  # noqa: E402
from pipeline.app.security import APP_CSP, REPORT_CSP  # noqa: E402
from pipeline.app.uploads import safe_filename  # noqa: E402
from pipeline.cli import main  # noqa: E402
from pipeline.errors import InputError  # noqa: E402

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def config(tmp_path):
    return AppConfig(root=tmp_path / "app", port=8000, start_jobs=False, max_upload_bytes=400_000)


@pytest.fixture
def client(config):
    app = create_app(config)
    with TestClient(app, base_url=BASE, follow_redirects=False) as c:
        c.config = config
        yield c


def logged_in(client):
    r = client.get(f"/?token={client.config.token}")
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "attune_8000=" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    return client


def change_headers(client, origin=BASE):
    h = {"X-CSRF-Token": client.config.csrf}
    if origin:
        h["Origin"] = origin
    return h


def test_no_token_wrong_token_and_the_printed_link(client):
    r = client.get("/")
    assert r.status_code == 401 and "link that attune serve printed" in r.text
    assert client.get("/static/app.js").status_code == 401  # every path, static files too
    assert client.get("/?token=not-the-token").status_code == 403
    client.cookies.set("attune_8000", "an-old-token")
    assert client.get("/history").status_code == 403
    client.cookies.clear()
    logged_in(client)
    r = client.get("/history")
    assert r.status_code == 200 and "History" in r.text
    r = client.get(f"/history?token={client.config.token}&q=abc")
    assert r.status_code == 303 and r.headers["location"] == "/history?q=abc"  # the token leaves the address


def test_a_foreign_host_is_refused_even_with_the_token(client):
    logged_in(client)
    for host in ("evil.example", "attacker.com:8000", "127.0.0.1.nip.io:8000"):
        r = client.get("/", headers={"Host": host})
        assert r.status_code == 400, host
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host


def test_changes_need_the_csrf_key_and_the_same_origin(client):
    logged_in(client)
    url = "/api/jobs/nope/cancel"
    assert client.post(url).status_code == 403  # neither
    assert client.post(url, headers={"Origin": BASE}).status_code == 403  # no key
    assert client.post(url, headers=change_headers(client, "http://evil.example")).status_code == 403
    assert client.post(url, headers=change_headers(client, "http://127.0.0.1:9999")).status_code == 403  # other port
    assert client.post(url, headers=change_headers(client, origin=None)).status_code == 403  # no origin at all
    r = client.post(url, headers={**change_headers(client, None), "Referer": BASE + "/"})
    assert r.status_code == 404 and r.json() == {"error": "no such job"}  # let through: the job does not exist
    assert client.post(url, headers=change_headers(client)).status_code == 404


def test_every_response_carries_the_strict_headers(client):
    logged_in(client)
    for path in ("/", "/history", "/voices", "/help", "/static/app.css", "/api/jobs"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-security-policy"] == APP_CSP, path
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer" and r.headers["cache-control"] == "no-store"
    page = client.get("/").text
    assert "http://" not in page.replace(BASE, "") and "https://" not in page  # no external assets
    assert f'<meta name="csrf" content="{client.config.csrf}">' in page
    assert "default-src 'none'" in REPORT_CSP and "frame-ancestors 'none'" in REPORT_CSP


def upload(client, name, content, **fields):
    return client.post("/api/upload", files={"file": (name, content)}, data=fields, headers=change_headers(client))


def test_upload_names_are_never_paths(client, clip_dir):
    logged_in(client)
    wav = (clip_dir / "clip.wav").read_bytes()
    r = upload(client, "../../../../tmp/evil.wav", wav, student="S-1", station="3")
    assert r.status_code == 200, r.text
    job = r.json()["job"]
    assert job["name"] == "evil.wav" and job["labels"] == {"student": "S-1", "station": "3"}
    root = client.config.root
    stored = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.wav"))
    assert stored == [f"uploads/{job['id']}/evil.wav"]
    assert (root / "uploads" / job["id"] / "evil.wav").stat().st_mode & 0o077 == 0
    assert (root / "uploads").stat().st_mode & 0o077 == 0
    jobs = json.loads(client.config.jobs_file.read_text())
    assert [j["status"] for j in jobs] == ["queued"]
    assert safe_filename("C:\\\\Users\\\\x\\\\visit 1.M4A") == "visit_1.m4a"
    assert safe_filename(".hidden.wav") == "hidden.wav" and safe_filename("....wav") == "recording.wav"
    with pytest.raises(InputError, match="is not a recording"):
        safe_filename("report.html")


def test_a_too_large_a_non_audio_and_a_wrong_type_upload_store_nothing(client, clip_dir):
    logged_in(client)
    cases = [
        ("big.wav", b"RIFF" + b"\0" * 500_000, 400, "big.wav: larger than the upload limit of 391 KB"),
        ("huge.wav", b"RIFF" + b"\0" * 1_600_000, 413, None),  # far over: refused by the server before it is read
        ("notes.wav", b"this is not audio at all " * 100, 400, "notes.wav: not a readable audio or video file"),
        ("setup.exe", (clip_dir / "clip.wav").read_bytes(), 400, "'setup.exe' is not a recording (.exe)"),
        ("empty.wav", b"", 400, "empty.wav: the file is empty"),
    ]
    for name, content, status, message in cases:
        r = upload(client, name, content)
        assert r.status_code == status, (name, r.status_code, r.text)
        if message:
            assert r.json()["error"].startswith(message), r.json()
    assert [p for p in client.config.root.rglob("*") if p.is_file() and p.suffix != ".db"] == []
    assert not client.config.jobs_file.exists()


def test_bad_form_values_are_refused(client, clip_dir):
    logged_in(client)
    wav = (clip_dir / "clip.wav").read_bytes()
    r = upload(client, "a.wav", wav, speakers="many")
    assert r.status_code == 400 and "whole number from 1 to 8" in r.json()["error"]
    r = upload(client, "a.wav", wav, channels="/etc/passwd")
    assert r.status_code == 400 and "unknown channel choice" in r.json()["error"]
    assert list(client.config.uploads.iterdir()) == []


def test_reports_are_served_only_from_the_apps_own_folder(client, tmp_path):
    logged_in(client)
    assert client.get("/r/1/report.html").status_code == 404
    assert client.get("/r/1/../../etc/passwd").status_code == 404


def test_jobs_do_not_vanish_when_the_app_stops(tmp_path):
    config = AppConfig(root=tmp_path / "app", start_jobs=False)
    config.root.mkdir(parents=True)
    rows = [
        {
            "id": "a",
            "name": "a.wav",
            "audio": str(tmp_path / "a.wav"),
            "out_dir": str(tmp_path / "out"),
            "status": "running",
        },
        {
            "id": "b",
            "name": "b.wav",
            "audio": str(tmp_path / "b.wav"),
            "out_dir": str(tmp_path / "outb"),
            "status": "done",
        },
    ]
    config.jobs_file.write_text(json.dumps(rows))
    q = JobQueue(config)
    assert q.jobs["a"].status == "interrupted" and "stopped before this finished" in q.jobs["a"].reason
    assert q.jobs["b"].status == "done"
    config.jobs_file.write_text("{not json")
    assert JobQueue(config).jobs == {}
    assert [p.name.startswith("jobs.broken-") for p in config.root.iterdir()] == [True]  # kept, not lost


def test_serve_refuses_a_remote_host_without_allow_remote(tmp_path):
    r = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--no-browser", "--data-dir", str(tmp_path / "d")])
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        "attune: error: --host 0.0.0.0: the app only listens on this computer (127.0.0.1) unless --allow-remote is given"
    )
    assert not (tmp_path / "d").exists()
    shutil.rmtree(tmp_path, ignore_errors=True)
