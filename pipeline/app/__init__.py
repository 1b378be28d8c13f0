"""``attune serve``: the local app for people who do not use a terminal.

A Starlette application served by uvicorn on 127.0.0.1 only. Recordings are uploaded into the
user's data folder and analysed through the same machinery as ``attune batch`` (a Dask
LocalCluster whose workers load the models once, :mod:`pipeline.batch`); every finished
analysis lands in the app's results database, where History, My trend, Cohort and the
feedback sheets read it.

* :mod:`.config`: one frozen :class:`~.config.AppConfig` (folders, secrets, limits);
* :mod:`.security`: the token, Host, CSRF/same-origin and header rules (SECURITY.md);
* :mod:`.uploads`: checking and storing an uploaded recording (never trusting its name);
* :mod:`.jobs`: the queue (persisted, live progress, cancel, retry);
* :mod:`.library`: the analyses in the database (search, delete, relabel, feedback);
* :mod:`.routes`: pages and JSON endpoints, thin, over the above.
"""

from .config import AppConfig
from .routes import create_app

__all__ = ["AppConfig", "create_app"]
