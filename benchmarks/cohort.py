"""How the cohort report scales: build time, page size and browser load time.

Synthetic database rows (the generator of tests/test_cohort.py) for 100 and 1,000
consultations by 4 clinicians; the page is built as ``attune cohort`` builds it, then
loaded in headless Chromium (when installed) until its script has run.

Usage:
    python benchmarks/cohort.py [--sizes 100,1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000")
    args = ap.parse_args()
    from test_cohort import make_db

    from pipeline.report import build_cohort
    from pipeline.report.pdf import find_browser
    from pipeline.store import Store

    browser = find_browser()
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            db = make_db(Path(tmp) / f"c{n}.db", n=n)
            t0 = time.perf_counter()
            with Store(db) as store:
                frame = store.frame()
            t1 = time.perf_counter()
            files = build_cohort(frame, Path(tmp) / f"cohort{n}.html")
            t2 = time.perf_counter()
            page = Path(tmp) / f"cohort{n}.html"
            page.write_text(files[page.name], encoding="utf-8")
            load = "n/a (no Chromium)"
            if browser:
                from playwright.sync_api import sync_playwright

                with sync_playwright() as p:
                    b = p.chromium.launch(executable_path=browser)
                    pg = b.new_page(viewport={"width": 1200, "height": 900})
                    t3 = time.perf_counter()
                    pg.goto(page.as_uri())
                    pg.wait_for_load_state("load")
                    pg.select_option("#metric-select", "opening_statement_s")
                    load = f"{time.perf_counter() - t3:.2f} s"
                    b.close()
            print(
                f"{n:5d} consultations: read database {t1 - t0:.2f} s, build page and CSV {t2 - t1:.2f} s, "
                f"page {len(files[page.name]) / 1e6:.2f} MB, browser load {load}"
            )


if __name__ == "__main__":
    main()
