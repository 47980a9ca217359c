"""Weak-signal bench (issue 16 part 3, R11.5): bytes over the wire and load times of the login page and the
village worker's daily pages, in Debian's Chromium at 360 px with the link emulated at 400 kbit/s and
400 ms latency (Chrome DevTools Protocol), against the production set-up: SHOUHU_DEBUG=0, collectstatic
with whitenoise's compressed, hashed files, gunicorn on 127.0.0.1.

    .venv/bin/python bench/bench_weak_signal.py [--children 300] [--port 8765]

Prints one row per page: bytes transferred (encoded, headers included), requests, seconds to `load`.
"First" is a cold browser; later pages reuse the cached static files (hashed names, cached for a year).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
KBIT = 400
LATENCY_MS = 400


def _env(db: str) -> dict[str, str]:
    return {
        **os.environ,
        "SHOUHU_DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{db}",
        "SHOUHU_SECRET_KEY": "bench-" + "x" * 50,
        "SHOUHU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SHOUHU_HUEY_IMMEDIATE": "1",
    }


def _run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def measure(page: Any, cdp: Any, url: str) -> dict[str, Any]:
    sizes: dict[str, int] = {}
    cdp.on(
        "Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"]))
    )
    start = time.perf_counter()
    page.goto(url, wait_until="load")
    seconds = time.perf_counter() - start
    page.wait_for_timeout(200)
    return {"bytes": sum(sizes.values()), "requests": len(sizes), "seconds": round(seconds, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=300)
    parser.add_argument("--port", type=int, default=8765)
    opts = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="shouhu-weak-")
    env = _env(f"{tmp}/db.sqlite3")
    _run(["collectstatic", "--noinput", "--clear"], env)
    _run(["migrate", "--noinput"], env)
    logins = f"{tmp}/logins.json"
    _run(["seed_demo", "--children", str(opts.children), "--logins-json", logins], env)
    password = next(
        u["password"] for u in json.loads(Path(logins).read_text()) if u["username"] == "vw_102201"
    )
    base = f"http://127.0.0.1:{opts.port}"
    server = subprocess.Popen(
        [str(Path(PY).parent / "gunicorn"), "-b", f"127.0.0.1:{opts.port}", "-w", "2", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        from playwright.sync_api import sync_playwright

        from shouhu.browser import ARGS, CHROMIUM

        rows = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(viewport={"width": 360, "height": 740}, service_workers="block")
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": LATENCY_MS,
                    "downloadThroughput": KBIT * 1000 / 8,
                    "uploadThroughput": KBIT * 1000 / 8,
                },
            )
            rows.append(("login (first load)", measure(page, cdp, f"{base}/login/")))
            page.fill("#id_username", "vw_102201")
            page.fill("#id_password", password)
            page.click("main form button[type=submit]")
            page.wait_for_url(f"{base}/")
            rows.append(("home", measure(page, cdp, f"{base}/")))
            rows.append(("today", measure(page, cdp, f"{base}/care/today/")))
            rows.append(("children", measure(page, cdp, f"{base}/children/")))
            href = page.get_attribute(".child-cards a", "href") or ""
            child = href.rstrip("/").split("/")[-1]
            rows.append(("care record", measure(page, cdp, f"{base}/care/children/{child}/")))
            rows.append(("visit form", measure(page, cdp, f"{base}/care/children/{child}/visit/")))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"link: {KBIT} kbit/s, {LATENCY_MS} ms latency; {opts.children} children")
    print(f"{'page':<22}{'bytes':>9}{'requests':>10}{'seconds':>9}")
    for name, r in rows:
        print(f"{name:<22}{r['bytes']:>9}{r['requests']:>10}{r['seconds']:>9}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
