"""``attune serve``: the local app (a web page on this computer only)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Optional

import click

from ..errors import AttuneError
from .common import debug_option


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise AttuneError(f"{{port}} {port}: cannot listen on {host} ({exc.strerror or exc})", "port") from None
    sock.listen(64)
    return sock


@click.command("serve")
@click.option("--port", type=int, default=0, help="Port to listen on (default: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (this computer only).")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a --host other than this computer (others on the network could then reach the app "
    "with its link: only on a network you trust).",
)
@click.option("--no-browser", is_flag=True, help="Only print the link; do not open the browser.")
@click.option("--workers", type=int, default=1, show_default=True, help="Recordings analysed at the same time.")
@click.option("--max-upload-mb", type=int, default=2048, show_default=True, help="Largest recording accepted.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the app keeps recordings and results (default: ~/.local/share/attunement/app).",
)
@debug_option
def serve(
    port: int,
    host: str,
    allow_remote: bool,
    no_browser: bool,
    workers: int,
    max_upload_mb: int,
    data_dir: Optional[Path],
):
    """Start the local app and open it in the browser.

    Add recordings by dragging them in, follow their analysis, read the reports and feedback
    sheets, compare a cohort and manage voices, without the command line. It answers only
    this computer, and only through the link printed here (it holds a secret key made at each
    start). Press Ctrl-C to stop it; analyses in progress then show as interrupted.
    """
    import threading
    import webbrowser

    import uvicorn

    from ..app import AppConfig, create_app
    from ..app.config import LOOPBACK_HOSTS
    from ..app.config import data_dir as default_data_dir
    from ..outputs import check_output_dir

    if host not in LOOPBACK_HOSTS and not allow_remote:
        raise AttuneError(
            f"--host {host}: the app only listens on this computer (127.0.0.1) unless --allow-remote is given"
        )
    if workers < 1 or max_upload_mb < 1:
        raise AttuneError("--workers and --max-upload-mb must be at least 1")
    root = data_dir or default_data_dir() / "app"
    check_output_dir(root)
    sock = _listen(host, port)
    actual = sock.getsockname()[1]
    config = AppConfig(
        root=root, host=host, port=actual, allow_remote=allow_remote, workers=workers,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
    )  # fmt: skip
    app = create_app(config)
    shown = "127.0.0.1" if host in LOOPBACK_HOSTS else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{actual}/?token={config.token}"
    if allow_remote and host not in LOOPBACK_HOSTS:
        click.echo(
            f"attune: warning: listening on {host}: anyone on this network who gets the link can use the app", err=True
        )
    click.echo(f"attunement is running. Open this link (it holds a secret key; do not share it):\n  {url}")
    click.echo("Keep this window open while you use the app; press Ctrl-C here to stop it.")
    app.state.jobs.start()  # the workers, now, in this thread: they must not see the terminal's Ctrl-C
    server = _server(
        uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", server_header=False, date_header=False
        )
    )
    if not no_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    try:
        asyncio.run(_serve(server, sock))
    finally:
        sock.close()
    click.echo("attunement stopped; analyses that were still running show as interrupted at the next start.")


def _server(config):
    """uvicorn's server with the stop signals left to :func:`_serve` (uvicorn's own handling
    raised Ctrl-C again inside the event loop, which cancelled the app's shutdown)."""
    import contextlib

    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            yield

    return Server(config)


async def _serve(server, sock) -> None:
    """Run until Ctrl-C or SIGTERM: the first stops gracefully (the app's shutdown marks running
    analyses interrupted and stops the workers), a second one at once."""
    import signal

    loop = asyncio.get_running_loop()

    def stop() -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await server.serve(sockets=[sock])


COMMANDS = [serve]
