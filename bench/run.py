"""Benchmarks (`make bench`): list and search at scale on SQLite and PostgreSQL, side by side.

    .venv/bin/python bench/run.py [--children 100000] [--backend sqlite|postgres|both] [--explain]

For each backend a fresh database is made (SQLite: bench/out/bench.sqlite3; PostgreSQL: database
shouhu_bench at postgres://postgres@127.0.0.1:5432, dropped and recreated), `manage.py migrate` runs in a
child process with DATABASE_URL set, then bench/bench_lists.py loads the demo county + N children and
times the requests. Figures are printed (and kept in bench/out/<backend>.json); nothing passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_SERVER = os.environ.get("SHOUHU_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "shouhu_bench"


def prepare(backend: str) -> str:
    """A fresh, empty database for `backend`; returns its DATABASE_URL."""
    if backend == "sqlite":
        path = OUT / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_NAME}")
    return f"{PG_SERVER}/{PG_NAME}"


def run_backend(backend: str, args: Any) -> dict[str, Any] | None:
    url = prepare(backend)
    env = {**os.environ, "DATABASE_URL": url, "SHOUHU_DEBUG": "0", "SHOUHU_LOG_LEVEL": "ERROR"}
    python = sys.executable
    print(f"\n### {backend}: {url}", flush=True)
    t0 = time.perf_counter()
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(f"  migrate: {time.perf_counter() - t0:.1f} s", flush=True)
    out = OUT / f"{backend}.json"
    out.unlink(missing_ok=True)
    cmd = [
        python,
        "bench/bench_lists.py",
        "--children",
        str(args.children),
        "--requests",
        str(args.requests),
        "--warmup",
        str(args.warmup),
        "--json",
        str(out),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env)
    if proc.returncode != 0 or not out.exists():
        print(f"  {backend}: the worker failed (exit {proc.returncode})", flush=True)
        return None
    return json.loads(out.read_text(encoding="utf-8"))


def machine() -> dict[str, str]:
    import sqlite3

    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "cpus": str(os.cpu_count()),
        "memory": mem,
        "python": platform.python_version(),
        "sqlite (Python module)": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def report(results: dict[str, dict[str, Any]], args: Any) -> None:
    print("\n## Machine")
    for k, v in machine().items():
        print(f"  {k}: {v}")
    for backend, r in results.items():
        print(f"  {backend}: {r.get('db_version')}")
    print(f"\n## Load ({args.children} children)")
    for backend, r in results.items():
        ld = r["load"]
        print(
            f"  {backend:9s} county {ld['county_s']} s · generate {ld['generate_s']} s · bulk_register "
            f"{ld['bulk_register_s']} s = {ld['children_per_s']} children/s, {ld['rows_per_s']} rows/s · {ld['rows']}"
        )
    names: list[str] = []
    for r in results.values():
        for c in r["cases"]:
            if c["case"] not in names:
                names.append(c["case"])
    backends = list(results)
    print(f"\n## Requests as the county user ({args.requests} each after {args.warmup} warm-up; ms)")
    header = f"  {'case':42s}" + "".join(
        f" | {b + ' p50':>12s} {b + ' p95':>12s} {'queries':>7s}" for b in backends
    )
    print(header)
    for name in names:
        line = f"  {name:42s}"
        for b in backends:
            c = next((c for c in results[b]["cases"] if c["case"] == name), None)
            if c is None or "error" in c:
                line += f" | {'error' if c else '-':>12s} {'':>12s} {'':>7s}"
            else:
                line += f" | {c['p50_ms']:12.2f} {c['p95_ms']:12.2f} {c['queries']:7d}"
        print(line)
    for b, r in results.items():
        for note in r["notes"]:
            print(f"  note ({b}): {note}")
        for c in r["cases"]:
            if "error" in c:
                print(f"  error ({b}) {c['case']}: {c['error']}")
    if args.explain:
        for b, r in results.items():
            for c in r["cases"]:
                if c.get("explain"):
                    print(
                        f"\n--- {b} · {c['case']} · slowest query {c['slowest_ms']} ms\n{c['slowest_sql']}\n"
                        f"params {c['slowest_params']}\n{c['explain']}"
                    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print the plan of each case's slowest query")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results: dict[str, dict[str, Any]] = {}
    for backend in backends:
        r = run_backend(backend, args)
        if r is not None:
            results[backend] = r
    if results:
        report(results, args)


if __name__ == "__main__":
    main()
