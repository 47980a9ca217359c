"""Benchmark worker (started by bench/run.py with DATABASE_URL set, after `manage.py migrate`).

Loads the demo county and N generated children with registry.bulk.bulk_register, then times the children
list and search as the county user (county-wide scope, the worst case) through Django's test Client:
the web list /children/, the API list /api/v1/children/ and ?q= searches (pinyin initials, full ID
number). Where a URL does not exist yet it is skipped with a note, and searches fall back to
registry.selectors.search_children + count + the first page. Prints figures and writes them as JSON; it
never passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--today", default="2026-06-01")
    parser.add_argument("--json", required=True)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    # Demo passwords are hashed once per user at 1,000,000 PBKDF2 rounds (~0.5 s each): not what is measured.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEBUG = False

    result: dict[str, Any] = {"vendor": None, "children": args.children, "load": {}, "cases": [], "notes": []}
    load(args, result)
    measure(args, result)
    Path(args.json).write_text(
        json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )


# --- load ------------------------------------------------------------------------------------------


def load(args: Any, result: dict[str, Any]) -> None:
    from django.db import connection

    from shouhu.core.demo import build_county
    from shouhu.core.models import Event, User
    from shouhu.registry.bulk import bulk_register
    from shouhu.registry.demo import demo_villages, generate_children
    from shouhu.registry.models import Child, Parent, StatusPeriod

    result["vendor"] = connection.vendor
    result["db_version"] = db_version()
    today = date.fromisoformat(args.today)
    t0 = time.perf_counter()
    build_county(args.seed)
    t_county = time.perf_counter() - t0
    actor = User.objects.get(username="county")
    t0 = time.perf_counter()
    rows = generate_children(args.children, args.seed, demo_villages(), today)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    chunk = 10_000
    for i in range(0, len(rows), chunk):
        bulk_register(actor=actor, rows=rows[i : i + chunk], today=today)
        print(
            f"  loaded {min(i + chunk, len(rows))}/{len(rows)} ({time.perf_counter() - t0:.0f} s)", flush=True
        )
    t_load = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    counts = {
        "children": Child.objects.count(),
        "parents": Parent.objects.count(),
        "status_periods": StatusPeriod.objects.count(),
        "events": Event.objects.count(),
    }
    total = sum(counts.values())
    result["load"] = {
        "county_s": round(t_county, 2),
        "generate_s": round(t_gen, 2),
        "bulk_register_s": round(t_load, 2),
        "children_per_s": round(len(rows) / t_load),
        "rows_per_s": round(total / t_load),
        "rows": counts,
    }
    print(f"  load: {result['load']}", flush=True)


def db_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SHOW server_version")
            return f"PostgreSQL {cur.fetchone()[0]}"
        cur.execute("select sqlite_version()")
        return f"SQLite {cur.fetchone()[0]}"


# --- measure ---------------------------------------------------------------------------------------


class QueryLog:
    """Counts queries and keeps their SQL (execute_wrapper works with DEBUG off)."""

    def __init__(self) -> None:
        self.sql: list[tuple[str, Any, float]] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql.append((sql, params, time.perf_counter() - t))


def timed(fn: Callable[[], Any], n: int, warmup: int) -> dict[str, Any]:
    from django.db import connection

    for _ in range(warmup):
        fn()
    times: list[float] = []
    log = QueryLog()
    for _ in range(n):
        log.sql.clear()
        with connection.execute_wrapper(log):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    slowest = max(log.sql, key=lambda q: q[2]) if log.sql else None
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)], 2),
        "queries": len(log.sql),
        "slowest_sql": slowest[0] if slowest else "",
        "slowest_params": [str(p) for p in slowest[1]] if slowest and slowest[1] else [],
        "slowest_ms": round(slowest[2] * 1000, 2) if slowest else 0,
    }


def explain(sql: str, params: list[str]) -> str:
    from django.db import connection

    if not sql.lstrip().upper().startswith("SELECT"):
        return ""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        else:
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(" ".join(str(c) for c in row) for row in cur.fetchall())


def url_exists(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
        return True
    except Resolver404:
        return False


def measure(args: Any, result: dict[str, Any]) -> None:
    from django.test import Client

    from shouhu.core.models import User
    from shouhu.registry.models import Child
    from shouhu.registry.selectors import ChildFilters, search_children

    user = User.objects.get(username="county")
    client = Client()
    client.force_login(user)
    rng = random.Random(args.seed)

    # A deterministic sample (the same on both backends): children in ledger order, sampled by the seed.
    ordered = list(
        Child.objects.exclude(id_number_index__isnull=True)
        .order_by("village_id", "name_pinyin", "birth_date")
        .values_list("pk", flat=True)
    )
    picked = rng.sample(ordered, min(200, len(ordered)))
    by_pk = Child.objects.in_bulk(picked)
    sample = [by_pk[pk] for pk in picked]
    deep = min(2000, max(1, (len(ordered) + 24) // 25))
    initials = ["zxm"]
    for c in sample:
        if c.name_initials not in initials:
            initials.append(c.name_initials)
        if len(initials) == 6:
            break
    id_numbers = [c.id_number for c in rng.sample(sample, 10)]
    cases: list[tuple[str, Callable[[], Any] | None, str]] = []

    def get(path: str, expect: int = 200) -> Callable[[], Any]:
        def fn() -> Any:
            response = client.get(path)
            if response.status_code != expect:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
            return response

        return fn

    def cycle(paths: list[str]) -> Callable[[], Any]:
        state = {"i": 0}
        fns = [get(p) for p in paths]

        def fn() -> Any:
            state["i"] += 1
            return fns[state["i"] % len(fns)]()

        return fn

    web = url_exists("/children/")
    api = url_exists("/api/v1/children/")
    if web:
        cases += [
            ("web /children/ page 1", get("/children/"), "web"),
            (f"web /children/?page={deep}", get(f"/children/?page={deep}"), "web"),
        ]
    else:
        result["notes"].append("web list /children/ not there yet: skipped")
    if api:
        cases += [
            ("api list page_size=25", get("/api/v1/children/?page_size=25"), "api"),
            ("api list page_size=100", get("/api/v1/children/?page_size=100"), "api"),
            (
                f"api list page_size=25 &page={deep}",
                get(f"/api/v1/children/?page_size=25&page={deep}"),
                "api",
            ),
        ]
        for q in initials:
            cases.append((f"api ?q={q}", get(f"/api/v1/children/?q={q}"), "api"))
        cases.append(
            (
                "api ?q=<ID number> (10 sampled)",
                cycle([f"/api/v1/children/?q={n}" for n in id_numbers]),
                "api",
            )
        )
    else:
        result["notes"].append(
            "API /api/v1/children/ not there yet: skipped; searches measured through "
            "selectors.search_children (+ count + first page of 25)"
        )

    def selector(q: str, page: int = 1, size: int = 25) -> Callable[[], Any]:
        def fn() -> Any:
            user.__dict__.pop("_shouhu_scope", None)  # each request computes the scope once
            qs = search_children(user, ChildFilters(q=q))
            qs.count()
            return list(qs[(page - 1) * size : page * size])

        return fn

    cases += [
        ("selector list page 1 (25)", selector(""), "selector"),
        ("selector list page 1 (100)", selector("", size=100), "selector"),
        (f"selector list page {deep} (25)", selector("", page=deep), "selector"),
    ]
    for q in initials:
        cases.append((f"selector q={q}", selector(q), "selector"))
    ids = {"i": 0}

    def by_id() -> Any:
        ids["i"] += 1
        return selector(id_numbers[ids["i"] % len(id_numbers)])()

    cases.append(("selector q=<ID number> (10 sampled)", by_id, "selector"))

    for name, fn, kind in cases:
        assert fn is not None
        try:
            figures = timed(fn, args.requests, args.warmup)
        except Exception as exc:  # a bench prints, never fails: record and go on
            result["cases"].append({"case": name, "kind": kind, "error": f"{type(exc).__name__}: {exc}"})
            print(f"  {name}: ERROR {exc}", flush=True)
            continue
        try:
            figures["explain"] = explain(figures["slowest_sql"], figures["slowest_params"])
        except Exception as exc:
            figures["explain"] = f"(EXPLAIN failed: {exc})"
        result["cases"].append({"case": name, "kind": kind, **figures})
        print(
            f"  {name:45s} p50 {figures['p50_ms']:8.2f} ms  p95 {figures['p95_ms']:8.2f} ms  "
            f"queries {figures['queries']}",
            flush=True,
        )
    result["initials"] = initials


if __name__ == "__main__":
    main()
