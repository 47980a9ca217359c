"""Benchmark of the care scan (issue 4, R2/R3): the set-based scan against a per-child ORM loop.

    .venv/bin/python bench/bench_scan.py --backend postgres --children 100000
    .venv/bin/python bench/bench_scan.py --backend sqlite --children 100000

Makes a fresh database (PostgreSQL: shouhu_bench_care on $SHOUHU_BENCH_PG, dropped and recreated;
SQLite: bench/out/care.sqlite3), migrates, loads the demo county, N children (bulk_create, not services),
50 parent contacts and 10 visits per child over the two years before the scan (COPY on PostgreSQL,
executemany on SQLite) and a few admonitions. Then, each in a fresh child process so that peak memory
(ru_maxrss) belongs to the scan alone:

- `first`: the scan on a county with no alerts yet (opens tens of thousands, records their events);
- `next day`: the daily scan the morning after (steady state);
- `again`: the same moment once more (idempotent: changes nothing);
- `set-based subset` vs `per-child loop`: the reading half of the scan (which alerts should be open) on
  the children of the first villages (about --subset children), set-based vs one ORM query per child
  and duty, and their ratio.

Prints the figures and writes them to bench/out/care-<backend>.json; never passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_SERVER = os.environ.get("SHOUHU_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "shouhu_bench_care"
AT = "2026-06-17T09:00:00+08:00"  # a Wednesday in the spring semester's last month (meeting warnings)


def database_url(backend: str) -> str:
    return f"sqlite:///{OUT / 'care.sqlite3'}" if backend == "sqlite" else f"{PG_SERVER}/{PG_NAME}"


def prepare(backend: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT / 'care.sqlite3'}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_NAME}")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


# --- load ------------------------------------------------------------------------------------------


def load(args: Any) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection, transaction

    from shouhu.core.demo import build_county
    from shouhu.core.models import RoleAssignment
    from shouhu.core.pinyin import name_pinyin
    from shouhu.registry.demo import demo_villages
    from shouhu.registry.models import Child

    t0 = time.perf_counter()
    call_command("migrate", "--noinput", verbosity=0)
    build_county(2016)
    RoleAssignment.objects.update(starts_at=datetime(2016, 1, 1, tzinfo=UTC))
    figures: dict[str, Any] = {"migrate_and_county_s": round(time.perf_counter() - t0, 1)}
    rng = random.Random(2016)
    villages = [v.code for v in demo_villages()]
    at = datetime.fromisoformat(AT)
    start = at - timedelta(days=730)
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "明华强军平芳娜敏静丽涛洋勇艳杰娟霞刚磊"

    t0 = time.perf_counter()
    ids: list[uuid.UUID] = []
    batch: list[Child] = []
    with transaction.atomic():
        for i in range(args.children):
            name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
            full, initials = name_pinyin(name)
            cid = uuid.UUID(int=rng.getrandbits(128), version=4)
            ids.append(cid)
            lb = rng.random() < 0.85
            batch.append(
                Child(
                    id=cid,
                    name=name,
                    name_pinyin=full,
                    name_initials=initials,
                    sex=rng.choice("12"),
                    birth_date=date(2011, 1, 1) + timedelta(days=rng.randrange(0, 365 * 14)),
                    village_id=villages[i % len(villages)],
                    schooling="primary",
                    care_arrangement="unattended" if rng.random() < 0.002 else "grandparents",
                    guardianship_rating=rng.choice(["good", "adequate", "poor", ""]),
                    lb_status=lb,
                    lb_type="both_away" if lb else "",
                    key_target=rng.random() < 0.1,
                    created_at=start - timedelta(days=rng.randrange(0, 60)),
                )
            )
            if len(batch) == 5000:
                Child.objects.bulk_create(batch)
                batch = []
        Child.objects.bulk_create(batch)
    figures["children_load_s"] = round(time.perf_counter() - t0, 1)

    span = int((at - start).total_seconds())
    # SQLite keeps a UUID as 32 hex digits, PostgreSQL as a uuid.
    refs = [c.hex if connection.vendor == "sqlite" else str(c) for c in ids]

    def contacts() -> Any:
        for cid in refs:
            for _ in range(args.contacts_per_child):
                when = start + timedelta(seconds=rng.randrange(span))
                channel = "in_person" if rng.random() < 0.03 else rng.choice(("phone", "video"))
                yield (
                    str(cid),
                    rng.choice(("father", "mother")),
                    channel,
                    rng.choice(("self", "village", "school")),
                    when,
                    "",
                    when,
                )

    def visits() -> Any:
        for cid in refs:
            for _ in range(args.visits_per_child):
                when = start + timedelta(seconds=rng.randrange(span))
                yield (cid, when, "routine", "child_director", "", "{}", "", False, when)

    contact_cols = "child_id, parent, channel, facilitated_by, occurred_at, note, recorded_at"
    visit_cols = (
        "child_id, occurred_at, kind, visitor_role, visitor_name, findings, guardianship_rating, living_alone, "
        "recorded_at"
    )
    t0 = time.perf_counter()
    bulk(connection, "care_parentcontact", contact_cols, contacts())
    figures["contacts_load_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    bulk(connection, "care_visit", visit_cols, visits())
    figures["visits_load_s"] = round(time.perf_counter() - t0, 1)
    adm = [
        (
            rng.choice(refs),
            "admonish",
            "village_committee",
            "监护人",
            "长期不联系",
            False,
            at - timedelta(days=rng.randrange(300)),
            at,
        )
        for _ in range(args.children // 50)
    ]
    bulk(
        connection,
        "care_admonition",
        "child_id, kind, by_body, guardian_name, reason, serious, occurred_at, recorded_at",
        iter(adm),
    )
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            connection.connection.autocommit = True
            cur.execute("VACUUM ANALYZE")
        else:
            cur.execute("ANALYZE")
    return figures


def bulk(connection: Any, table: str, cols: str, rows: Any) -> None:
    """COPY on PostgreSQL, executemany in chunks on SQLite (no services: this is test data)."""
    from django.db import transaction

    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cur:
            raw = cur.cursor if hasattr(cur, "cursor") else cur
            with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    n = len(cols.split(","))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * n)})"
    chunk: list[Any] = []
    with transaction.atomic(), connection.cursor() as cur:
        for row in rows:
            chunk.append(tuple(r.isoformat() if isinstance(r, datetime) else r for r in row))
            if len(chunk) == 50_000:
                cur.executemany(sql, chunk)
                chunk = []
        if chunk:
            cur.executemany(sql, chunk)


# --- phases, each in a fresh process -----------------------------------------------------------------


def peak_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would carry the parent's over exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def phase(name: str, args: Any) -> dict[str, Any]:
    from django.db import connection

    from shouhu.care import scan, selectors

    at = datetime.fromisoformat(AT)
    base = peak_mb()
    out: dict[str, Any] = {"phase": name, "rss_before_mb": base}
    queries = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries[0] += 1
        return execute(sql, params, many, context)

    wrapper = connection.execute_wrapper(count)
    wrapper.__enter__()
    t0 = time.perf_counter()
    if name == "first":
        summary = scan.run(at - timedelta(days=1))
        out["opened"], out["resolved"], out["escalated"] = (
            summary["opened"],
            summary["resolved"],
            summary["escalated"],
        )
    elif name in ("next_day", "again"):
        summary = scan.run(at)
        out["opened"], out["resolved"], out["escalated"] = (
            summary["opened"],
            summary["resolved"],
            summary["escalated"],
        )
    elif name == "subset_set":
        villages = subset_villages(args.subset)
        wanted, _rows, summ = scan.compute(
            at, selectors.designated_workers(at), selectors.supervisors(at), villages
        )
        out["children"] = summ["children"]
        out["wanted"] = digest({k: [s.key for s in v] for k, v in wanted.items()})
    elif name == "subset_loop":
        villages = subset_villages(args.subset)
        wanted, n = per_child_loop(at, villages)
        out["children"] = n
        out["wanted"] = digest(wanted)
    out["wall_s"] = round(time.perf_counter() - t0, 2)
    wrapper.__exit__(None, None, None)
    out["queries"] = queries[0]
    out["peak_rss_mb"] = peak_mb()
    out["peak_over_base_mb"] = round(out["peak_rss_mb"] - base, 1)
    return out


def digest(wanted: dict[str, list[str]]) -> dict[str, str]:
    """Per kind: how many, and a hash of exactly which keys (to compare the two scans' decisions)."""
    import hashlib

    return {
        str(k): f"{len(v)}:{hashlib.sha256(','.join(sorted(v)).encode()).hexdigest()[:12]}"
        for k, v in sorted(wanted.items())
    }


def subset_villages(target: int) -> list[str]:
    from django.db.models import Count

    from shouhu.registry.models import Child

    rows = Child.objects.values("village_id").annotate(n=Count("id")).order_by("village_id")
    picked, total = [], 0
    for r in rows:
        if total >= target:
            break
        picked.append(r["village_id"])
        total += r["n"]
    return picked


def per_child_loop(at: datetime, villages: list[str]) -> tuple[dict[str, list[str]], int]:
    """The same decisions as scan.compute, written the naive way: queries per child and duty."""
    from django.db.models import Max
    from django.utils import timezone

    from shouhu.care import rules, selectors
    from shouhu.care.models import Admonition, ParentContact, Visit
    from shouhu.core.policy import param
    from shouhu.registry.models import Agreement, Child
    from shouhu.registry.rules import anniversary

    tz = timezone.get_current_timezone()
    today = timezone.localdate(at)
    ws = rules.week_start(today)
    this_week, prev_week = rules.local_midnight(ws, tz), rules.local_midnight(ws - timedelta(days=7), tz)
    term, in_term = rules.reference_term(selectors.terms_around(today), today)
    warn, intervals = int(param("meeting_warning_days")), param("visit_interval_days")
    kt_days, window_days = param("visit_interval_key_target_days"), int(param("admonition_window_days"))
    threshold = int(param("admonitions_before_escalation"))
    wanted: dict[str, list[str]] = {}
    n = 0
    for child in Child.objects.filter(created_at__lte=at, village_id__in=villages).iterator():
        n += 1
        key = f"child:{child.pk}"
        if child.lb_status:
            prev_n = ParentContact.objects.filter(
                child=child, occurred_at__gte=prev_week, occurred_at__lt=this_week
            ).count()
            this_n = ParentContact.objects.filter(
                child=child, occurred_at__gte=this_week, occurred_at__lte=at
            ).count()
            if rules.contact_overdue(prev_n, this_n, child.created_at <= prev_week):
                wanted.setdefault("contact_overdue", []).append(key)
            if term is not None:
                met = ParentContact.objects.filter(
                    child=child,
                    channel="in_person",
                    occurred_at__gte=rules.local_midnight(term.start, tz),
                    occurred_at__lte=at,
                ).exists()
                if rules.meeting_overdue(term, in_term, today, met, warn):
                    wanted.setdefault("meeting_overdue", []).append(key)
            last_to = Agreement.objects.filter(child=child, valid_from__lte=today).aggregate(
                m=Max("valid_to")
            )["m"]
            if last_to is not None and last_to < today:
                wanted.setdefault("agreement_expired", []).append(key)
        last = Visit.objects.filter(child=child, occurred_at__lte=at).aggregate(m=Max("occurred_at"))["m"]
        interval = rules.visit_interval(child.guardianship_rating, child.key_target, intervals, kt_days)
        due = rules.next_visit_due(
            timezone.localdate(last, tz) if last else None, timezone.localdate(child.created_at, tz), interval
        )
        if due < today:
            wanted.setdefault("visit_overdue", []).append(key)
        if child.care_arrangement == "unattended" and today <= anniversary(child.birth_date, 16):
            wanted.setdefault("unattended", []).append(key)
        window = at - timedelta(days=window_days)
        count = Admonition.objects.filter(child=child, occurred_at__gt=window, occurred_at__lte=at).count()
        if count >= threshold:
            wanted.setdefault("guardian_admonished", []).append(key)
    return wanted, n


# --- driver ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--contacts-per-child", type=int, default=50)
    parser.add_argument("--visits-per-child", type=int, default=10)
    parser.add_argument("--subset", type=int, default=10_000)
    parser.add_argument("--phase", default="")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = database_url(args.backend)
    os.environ.setdefault("SHOUHU_LOG_LEVEL", "ERROR")

    if args.phase:  # a child process: one measurement, printed as JSON
        setup_django()
        print(json.dumps(phase(args.phase, args)))
        return

    prepare(args.backend)
    setup_django()
    from django.db import connection

    result: dict[str, Any] = {
        "backend": args.backend,
        "children": args.children,
        "contacts": args.children * args.contacts_per_child,
        "visits": args.children * args.visits_per_child,
        "machine": f"{platform.platform()}, {os.cpu_count()} CPU, Python {platform.python_version()}",
    }
    print(
        f"### care scan on {args.backend}: {result['children']:,} children, {result['contacts']:,} contacts, "
        f"{result['visits']:,} visits",
        flush=True,
    )
    result["load"] = load(args)
    with connection.cursor() as cur:
        cur.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        result["db_version"] = cur.fetchone()[0]
    connection.close()
    print(f"  load: {result['load']}", flush=True)
    result["phases"] = []
    for name in ("first", "next_day", "again", "subset_set", "subset_loop"):
        cmd = [
            sys.executable,
            __file__,
            "--backend",
            args.backend,
            "--phase",
            name,
            "--subset",
            str(args.subset),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy(), check=False)
        if out.returncode != 0:
            print(out.stderr[-3000:], flush=True)
            result["phases"].append({"phase": name, "error": out.stderr[-500:]})
            continue
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        result["phases"].append(figures)
        print(f"  {name}: {figures}", flush=True)
    by = {p["phase"]: p for p in result["phases"]}
    if "wall_s" in by.get("subset_set", {}) and "wall_s" in by.get("subset_loop", {}):
        ratio = by["subset_loop"]["wall_s"] / max(by["subset_set"]["wall_s"], 1e-6)
        result["loop_over_set_ratio"] = round(ratio, 1)
        set_wanted = {k: v for k, v in by["subset_set"]["wanted"].items() if k != "no_designated_worker"}
        same = by["subset_loop"]["wanted"] == set_wanted  # the loop leaves villages out
        result["same_decisions"] = same
        print(
            f"  per-child loop / set-based on {by['subset_set']['children']:,} children: {ratio:.1f}× "
            f"({by['subset_loop']['queries']:,} vs {by['subset_set']['queries']} queries; same decisions: {same})"
        )
    (OUT / f"care-{args.backend}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2, default=str)
    )
    if args.backend == "postgres" and not args.keep:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
