"""The app's pages and JSON endpoints: thin handlers over :mod:`.jobs`, :mod:`.library` and
:mod:`.uploads`. Every request has passed :class:`.security.Guard` first."""

from __future__ import annotations

import json
import re
from contextlib import asynccontextmanager
from pathlib import Path

from ..errors import AttuneError, InputError
from . import library, uploads
from .config import AppConfig
from .jobs import Job, JobQueue, new_id
from .security import REPORT_CSP, Guard

HERE = Path(__file__).resolve().parent
CHANNELS = {  # the form's choice -> AnalysisOptions.channels
    "mono": None,
    "auto": "auto",
    "clinician-left": "clinician,patient",
    "patient-left": "patient,clinician",
}
LABEL_FIELDS = ("student", "station", "date", "clinician")
PAGES = [("/", "Add recordings"), ("/history", "History"), ("/trend", "My trend"), ("/cohort", "Cohort"),
         ("/voices", "Voices"), ("/help", "Help")]  # fmt: skip


def _templates():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def create_app(config: AppConfig):
    """The ASGI application (Starlette, behind :class:`.security.Guard`)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    for folder in (config.root, config.uploads, config.results):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
    jobs = JobQueue(config)
    env = _templates()

    @asynccontextmanager
    async def lifespan(app):
        yield
        jobs.close()

    h = Handlers(config, jobs, env)
    routes = [
        Route("/", h.home),
        Route("/history", h.history),
        Route("/trend", h.trend),
        Route("/cohort", h.cohort),
        Route("/voices", h.voices),
        Route("/help", h.help),
        Route("/favicon.ico", h.favicon),
        Route("/r/{id:int}/report.html", h.report),
        Route("/r/{id:int}/report.audio.mp3", h.report_audio),
        Route("/r/{id:int}/feedback.html", h.feedback),
        Route("/r/{id:int}/feedback.pdf", h.feedback_pdf),
        Route("/feedback.zip", h.feedback_zip),
        Route("/api/jobs", h.api_jobs),
        Route("/api/upload", h.api_upload, methods=["POST"], max_body_size=config.max_upload_bytes + (1 << 20)),
        Route("/api/jobs/{job}/{action}", h.api_job_action, methods=["POST"]),
        Route("/api/analyses/{id:int}/{action}", h.api_analysis_action, methods=["POST"]),
        Route("/api/voices", h.api_voice_add, methods=["POST"], max_body_size=200 * (1 << 20)),
        Route("/api/voices/remove", h.api_voice_remove, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(Guard, config=config)])
    app.state.jobs = jobs
    return app


class Handlers:
    """The request handlers; each one is short and calls the library."""

    def __init__(self, config: AppConfig, jobs: JobQueue, env):
        self.config, self.jobs, self.env = config, jobs, env

    # ---- helpers
    def page(self, name: str, path: str, **data):
        from starlette.responses import HTMLResponse

        html = self.env.get_template(name).render(
            pages=PAGES, here=path, csrf=self.config.csrf, max_mb=self.config.max_upload_bytes // (1 << 20), **data
        )
        return HTMLResponse(html)

    @staticmethod
    def error(message: str, status: int = 400):
        from starlette.responses import JSONResponse

        return JSONResponse({"error": message}, status_code=status)

    def _file(self, analysis_id: int, name: str, media_type: str):
        from starlette.responses import FileResponse, PlainTextResponse

        try:
            folder = library.result_path(self.config, analysis_id).parent
        except AttuneError as exc:
            return PlainTextResponse(str(exc), 404)
        path = folder / name
        if not path.is_file():
            return PlainTextResponse("not found", 404)
        return FileResponse(path, media_type=media_type, headers={"content-security-policy": REPORT_CSP})

    # ---- pages
    async def home(self, request):
        return self.page("home.html.j2", "/", channels=CHANNELS, jobs=self._job_views())

    async def history(self, request):
        args = _filters(request)
        everything = library.frame(self.config)
        df = library.matching(everything, **args)
        return self.page(
            "history.html.j2",
            "/history",
            rows=library.rows(df),
            total=len(everything),
            labels=library.label_values(everything),
            args=args,
            query=request.url.query,
        )

    async def trend(self, request):
        df = library.search(self.config, **_filters(request))
        if df.empty:
            return self.page("empty.html.j2", "/trend", what="consultations to follow over time")
        return self.page("trend.html.j2", "/trend", series=library.trend(df), n=len(df), query=request.url.query)

    async def cohort(self, request):
        from starlette.responses import HTMLResponse

        from ..report import build_cohort

        group_by = request.query_params.get("group_by") or "station"
        df = library.search(self.config, **_filters(request))
        if df.empty:
            return self.page("empty.html.j2", "/cohort", what="consultations to compare")
        if group_by not in df.columns:
            group_by = "clinician" if "clinician" in df.columns else "mode"
        df = df.drop(columns=["_day", "_recording"])
        files = build_cohort(df, self.config.root / "cohort.html", group_by=group_by, source="this app")
        # the cohort page links each report by its path on disk: point them at the app instead
        html = _relink(files["cohort.html"], df, self.config.root).replace(
            "<body>", '<body>\n<p><a href="/history">&larr; Back to the app (History)</a></p>', 1
        )
        return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP})

    async def voices(self, request):
        from ..voices import VoiceBook

        with VoiceBook() as book:
            rows = [
                {"name": v.name, "role": v.role, "speech_s": v.speech_s, "created": v.created[:10]}
                for v in book.voices()
            ]
        return self.page("voices.html.j2", "/voices", voices=rows)

    async def favicon(self, request):
        from starlette.responses import Response

        return Response(status_code=204)

    async def help(self, request):
        return self.page("help.html.j2", "/help")

    async def report(self, request):
        return self._file(request.path_params["id"], "report.html", "text/html")

    async def report_audio(self, request):
        return self._file(request.path_params["id"], "report.audio.mp3", "audio/mpeg")

    async def feedback(self, request):
        from starlette.responses import HTMLResponse, PlainTextResponse

        try:
            html = library.feedback_html(self.config, request.path_params["id"])
        except AttuneError as exc:
            return PlainTextResponse(str(exc), 404)
        return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP})

    async def feedback_pdf(self, request):
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import PlainTextResponse, Response

        from ..report.pdf import print_html

        try:
            html = library.feedback_html(self.config, request.path_params["id"])
            pdf = await run_in_threadpool(print_html, html)
        except AttuneError as exc:
            return PlainTextResponse(str(exc), 404)
        name = f"feedback-{request.path_params['id']}.pdf"
        return Response(
            pdf, media_type="application/pdf", headers={"content-disposition": f'attachment; filename="{name}"'}
        )

    async def feedback_zip(self, request):
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import Response

        df = library.search(self.config, **_filters(request))
        data = await run_in_threadpool(library.feedback_zip, self.config, df)
        return Response(
            data,
            media_type="application/zip",
            headers={"content-disposition": 'attachment; filename="feedback-sheets.zip"'},
        )

    # ---- the queue
    def _job_views(self) -> list[dict]:
        jobs = sorted(self.jobs.jobs.values(), key=lambda j: j.created, reverse=True)
        return [self.jobs.view(j) for j in jobs]

    async def api_jobs(self, request):
        from starlette.responses import JSONResponse

        return JSONResponse({"jobs": self._job_views()})

    async def api_upload(self, request):
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse

        try:
            form = await request.form(max_files=1, max_fields=30, max_part_size=64 * 1024)
        except Exception:  # a malformed or oversized form part
            return self.error("the upload could not be read (too many fields, or a field too large)")
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return self.error("no file in the upload")
        try:
            job = await run_in_threadpool(self._new_job, upload, form)
        except AttuneError as exc:
            return self.error(str(exc))
        finally:
            await form.close()
        return JSONResponse({"job": self.jobs.view(job)})

    def _new_job(self, upload, form) -> Job:
        job_id = new_id()
        options = _job_options(form)
        labels = {k: str(form.get(k, "")).strip()[:200] for k in LABEL_FIELDS if str(form.get(k, "")).strip()}
        from ..store import check_labels

        check_labels(labels)
        audio = uploads.store(
            upload.file, upload.filename or "", self.config.uploads / job_id, self.config.max_upload_bytes
        )
        name = uploads.display_name(str(upload.filename or "")) or audio.name
        job = Job(
            job_id, name, str(audio), str(self.config.results / job_id), labels, options, form.get("redact") == "on"
        )
        return self.jobs.add(job)

    async def api_job_action(self, request):
        from starlette.responses import JSONResponse

        job_id, action = request.path_params["job"], request.path_params["action"]
        if job_id not in self.jobs.jobs:
            return self.error("no such job", 404)
        if action == "cancel":
            job = self.jobs.cancel(job_id)
        elif action == "retry":
            job = self.jobs.retry(job_id)
        elif action == "forget":
            self.jobs.forget(job_id)
            return JSONResponse({"ok": True})
        else:
            return self.error("unknown action", 404)
        return JSONResponse({"job": self.jobs.view(job)})

    async def api_analysis_action(self, request):
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse

        aid, action = request.path_params["id"], request.path_params["action"]
        try:
            if action == "delete":
                name = await run_in_threadpool(library.delete, self.config, aid, self.jobs)
                return JSONResponse({"ok": True, "deleted": name})
            if action == "swap-roles":
                await run_in_threadpool(library.swap_roles, self.config, aid)
                return JSONResponse({"ok": True})
        except AttuneError as exc:
            return self.error(str(exc), 404)
        return self.error("unknown action", 404)

    # ---- voices
    async def api_voice_add(self, request):
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse

        form = await request.form(max_files=1, max_fields=5, max_part_size=4096)
        try:
            upload, name, role = form.get("file"), str(form.get("name", "")).strip(), str(form.get("role", "clinician"))
            if upload is None or isinstance(upload, str) or not name:
                return self.error("give a name and a recording of that person alone")
            voice = await run_in_threadpool(_enrol, self.config, upload, name, role)
        except AttuneError as exc:
            return self.error(str(exc))
        finally:
            await form.close()
        return JSONResponse({"ok": True, "name": voice.name, "speech_s": voice.speech_s})

    async def api_voice_remove(self, request):
        from starlette.responses import JSONResponse

        from ..voices import VoiceBook

        body = json.loads((await request.body()) or b"{}")
        try:
            with VoiceBook() as book:
                book.remove(str(body.get("name", "")))
        except AttuneError as exc:
            return self.error(str(exc), 404)
        return JSONResponse({"ok": True})


def _filters(request) -> dict[str, str]:
    """History's filter (search text, one label's value, a date range) from the address."""
    return {k: request.query_params.get(k, "") for k in library.FILTERS}


def _job_options(form) -> dict:
    """The analysis options a form asks for (channels, speakers), checked."""
    options: dict = {}
    channels = str(form.get("channels", "mono"))
    if channels not in CHANNELS:
        raise InputError(f"unknown channel choice {channels[:40]!r}")
    if CHANNELS[channels] is not None:
        options["channels"] = CHANNELS[channels]
    speakers = str(form.get("speakers", "")).strip()
    if speakers:
        if not speakers.isdigit() or not 1 <= int(speakers) <= 8:
            raise InputError("the number of speakers must be a whole number from 1 to 8 (or left empty)")
        options["num_speakers"] = int(speakers)
    return options


def _relink(html: str, df, root: Path) -> str:
    """The cohort page's links to reports, rewritten to the app's own addresses."""
    from ..report.cohort import report_link

    for r in df.itertuples():
        link = report_link(r.report_path, root.resolve())  # as the page wrote it
        if link:
            html = html.replace(f'href="{link}"', f'href="/r/{int(r.id)}/report.html"')
    return re.sub(r'href="(?!/r/|#)[^"]*report\.html"', 'href="#"', html)


def _enrol(config: AppConfig, upload, name: str, role: str):
    import shutil
    import tempfile

    from ..voices import VoiceBook, enroll

    folder = Path(tempfile.mkdtemp(prefix="attune-voice-"))
    try:
        audio = uploads.store(upload.file, upload.filename or "", folder, config.max_upload_bytes)
        with VoiceBook() as book:
            if book.get(name) is not None:
                raise AttuneError(f"a voice called {name!r} is already enrolled (remove it first)")
            voice = enroll(name, [audio], role)
            book.add(voice)
        return voice
    finally:
        shutil.rmtree(folder, ignore_errors=True)
