"""Ledger import/export benchmark (issue 3): Shouhu's import end to end against the floor and
django-import-export, and the export, on SQLite and/or PostgreSQL.

    .venv/bin/python bench/bench_ledger.py --rows 100000 --backend sqlite|postgres|both [--iie-rows 10000]

- The workbook: N rows in the official MCA 2016 layout (title, 填报单位, two-level headers, footer),
  children spread over every village of the Chengkou demo county, both parents away, IDs as text,
  the paternal grandparents and the carer (the grandmother, 80 % with a phone) named, as most
  left-behind children live with grandparents; generated once into bench/out/ledger-<N>.xlsx.
- Databases: SQLite at bench/out/ledger.sqlite3; PostgreSQL database shouhu_bench_ledger at
  $SHOUHU_BENCH_PG (default postgres://postgres@127.0.0.1:5432), dropped and created by this script.
- Each measurement runs in its own child process (peak memory = that process's ru_maxrss) on an empty
  ledger (children, their family, status periods and events truncated before each):
    shouhu  — `shouhu.ledger.importer.import_ledger`: read, validate every row, deduplicate (file and
              database), write (bulk_register: children, parents, status, events; bulk_family:
              grandparents, carers and their events), one transaction;
    floor   — python-calamine read + bulk_create of the same rows (children, parents, grandparents,
              carers), no validation, no status, no events (what any import must at least do);
    floor_copy — the same through core.bulkcopy.bulk_insert (COPY on PostgreSQL, bulk_create on SQLite);
    iie     — django-import-export 4 with a ModelResource for Child that also saves the parents,
              grandparents and carer (the same tables as the floor), fed the same rows as a tablib
              Dataset; run on --iie-rows rows (default 10,000) because it is slow, and compared by rows per second;
    iie_child — the same resource without the parents (child fields only; the first runs' resource);
    export  — `export_ledger` of every child (official layout + summary sheet) after the shouhu run.
Nothing passes or fails; figures are printed and kept in bench/out/ledger-<backend>.json.
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
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_SERVER = os.environ.get("SHOUHU_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "shouhu_bench_ledger"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "小明红华军平伟芳娜敏静丽强磊洋艳勇杰娟涛超霞秀英兰玉梅春雪云飞鹏宇浩然欣怡子涵思雨佳琪"


# --- driver -------------------------------------------------------------------------------------------


def prepare(backend: str) -> str:
    if backend == "sqlite":
        path = OUT / "ledger.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_NAME}")
    return f"{PG_SERVER}/{PG_NAME}"


def drop(backend: str) -> None:
    if backend == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def child(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    if out.stderr.strip():
        print("    " + out.stderr.strip().replace("\n", "\n    ")[-2000:], file=sys.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_backend(backend: str, args: Any, workbook: Path) -> dict[str, Any]:
    url = prepare(backend)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SHOUHU_DEBUG": "0",
        "SHOUHU_LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    print(f"\n### {backend}: {url}", flush=True)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    child(env, "--phase", "setup")
    print(f"  migrate + demo county: {time.perf_counter() - t0:.1f} s", flush=True)
    results: dict[str, Any] = {"backend": backend, "rows": args.rows}
    for phase in args.phases.split(","):
        extra = ["--iie-rows", str(args.iie_rows)] if phase.startswith("iie") else []
        r = child(env, "--phase", phase, "--file", str(workbook), *extra)
        results[phase] = r
        print(
            f"  {phase:8s} {r['rows']:>7d} rows  {r['seconds']:8.1f} s  {r['rows_per_s']:>9.0f} rows/s  "
            f"peak {r['peak_mib']:7.0f} MiB  {r.get('note', '')}",
            flush=True,
        )
    previous = OUT / f"ledger-{backend}.json"
    if previous.exists():  # phases not run this time keep their last figures
        for k, v in json.loads(previous.read_text("utf-8")).items():
            results.setdefault(k, v)
    s = results["shouhu"]
    ratios: dict[str, float] = {}
    for floor in ("floor", "floor_copy"):
        if floor in results:
            ratios[f"shouhu_vs_{floor}_time"] = round(s["seconds"] / results[floor]["seconds"], 2)
    for iie in ("iie", "iie_child"):
        if iie in results:
            ratios[f"shouhu_vs_{iie}_rows_per_s"] = round(s["rows_per_s"] / results[iie]["rows_per_s"], 1)
    results["ratios"] = ratios
    print(
        "  ratios (goals: Shouhu within 3× of the floor, ≥ 10× django-import-export's rows/s):\n    "
        + "\n    ".join(f"{k} = {v}×" for k, v in ratios.items())
        + (f"\n  export {results['export']['seconds']:.1f} s (goal < 20 s)" if "export" in results else ""),
        flush=True,
    )
    (OUT / f"ledger-{backend}.json").write_text(json.dumps(results, indent=1), "utf-8")
    if not args.keep:
        drop(backend)
    return results


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--iie-rows", type=int, default=10_000)
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    p.add_argument(
        "--phases",
        default="floor,floor_copy,iie,iie_child,shouhu,reimport,export",
        help="subset to run (comma-separated)",
    )
    p.add_argument("--phase")
    p.add_argument("--file")
    args = p.parse_args()
    if args.phase:
        return phase(args)
    OUT.mkdir(parents=True, exist_ok=True)
    workbook = OUT / f"ledger-{args.rows}.xlsx"
    print(
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    if not workbook.exists():
        env = {**os.environ, "DATABASE_URL": prepare("sqlite"), "DJANGO_SETTINGS_MODULE": "config.settings"}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        t0 = time.perf_counter()
        child(env, "--phase", "generate", "--file", str(workbook), "--iie-rows", str(args.rows))
        print(
            f"generated {workbook.name} ({workbook.stat().st_size / 2**20:.1f} MiB) in "
            f"{time.perf_counter() - t0:.1f} s",
            flush=True,
        )
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for b in backends:
        run_backend(b, args, workbook)


# --- phases (child processes) -----------------------------------------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def report(rows: int, seconds: float, note: str = "", **extra: Any) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": round(seconds, 2),
                "rows_per_s": rows / seconds if seconds else 0,
                "peak_mib": round(peak),
                "note": note,
                **extra,
            }
        )
    )


def truncate() -> None:
    from django.db import connection

    from shouhu.core.models import AccessLog, AuditChainHead, Event
    from shouhu.registry.models import Child, Grandparent, Guardian, Parent, StatusPeriod

    tables = [
        m._meta.db_table for m in (StatusPeriod, Parent, Grandparent, Guardian, Child, Event, AccessLog)
    ]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for t in tables:
                cur.execute(f"DELETE FROM {t}")
    AuditChainHead.objects.all().delete()


def actor() -> Any:
    from shouhu.core.models import User

    return User.objects.get(username="county")


def phase(args: Any) -> None:
    setup_django()
    if args.phase == "setup":
        from shouhu.core.demo import build_county
        from shouhu.core.reference import load_reference_data

        load_reference_data()
        build_county()
        print(json.dumps({}))
    elif args.phase == "generate":
        from shouhu.core.demo import build_county
        from shouhu.core.reference import load_reference_data

        load_reference_data()
        build_county()
        generate(Path(args.file), args.iie_rows)
        print(json.dumps({}))
    elif args.phase == "shouhu":
        truncate()
        bench_shouhu(Path(args.file))
    elif args.phase == "reimport":
        bench_shouhu(Path(args.file), again=True)
    elif args.phase == "floor":
        truncate()
        bench_floor(Path(args.file))
    elif args.phase == "floor_copy":
        truncate()
        bench_floor(Path(args.file), copy=True)
    elif args.phase == "iie":
        truncate()
        bench_iie(Path(args.file), args.iie_rows)
    elif args.phase == "iie_child":
        truncate()
        bench_iie(Path(args.file), args.iie_rows, with_parents=False)
    elif args.phase == "export":
        bench_export()


def generate(path: Path, n: int) -> None:
    import xlsxwriter

    from shouhu.core.identity import compose_id_number
    from shouhu.core.models import Region
    from shouhu.ledger.columns import COLUMNS

    rng = random.Random(2016)
    villages = [
        f"{r.parent.name}{r.name}"
        for r in Region.objects.filter(kind__in=("village", "community"))
        .select_related("parent")
        .order_by("code")
    ]
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("附件1")
    datefmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_string(0, 0, "农村留守儿童信息台账")
    ws.write_string(1, 0, "填报单位（盖章）：城口县民政局")
    ws.write_string(2, 0, "序号")
    last = None
    for j, c in enumerate(COLUMNS, 1):
        if not c.group:
            ws.write_string(2, j, c.header)
        elif c.group != last:
            ws.write_string(2, j, c.group)
        last = c.group
    for j, c in enumerate(COLUMNS, 1):
        if c.group:
            ws.write_string(3, j, c.header)
    used: set[str] = set()
    start = date(2011, 1, 1)
    r = 4
    for i in range(n):
        while True:
            birth = start + timedelta(days=rng.randrange(0, 365 * 13))
            male = rng.random() < 0.52
            seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
            idn = compose_id_number("500229", birth, seq)
            if idn not in used:
                used.add(idn)
                break
        fbirth = date(1980 + rng.randrange(0, 12), rng.randrange(1, 13), rng.randrange(1, 28))
        family = rng.choice(SURNAMES)
        grandpa = family + rng.choice(GIVEN) + rng.choice(GIVEN)
        grandma = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        row = {
            "name": rng.choice(SURNAMES)
            + rng.choice(GIVEN)
            + (rng.choice(GIVEN) if rng.random() < 0.7 else ""),
            "sex": "男" if male else "女",
            "ethnicity": "汉族" if rng.random() < 0.8 else "土家族",
            "birth_date": birth,
            "id_number": idn,
            "hukou_registered": "是",
            "hukou_rural": "是",
            "address": f"{rng.randrange(1, 12)}组{rng.randrange(1, 80)}号",
            "village": villages[i % len(villages)],
            "health": "健康",
            "schooling": "小学" if birth.year < 2020 else "幼儿园",
            "boarding": "否",
            "father_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "father_birth_date": fbirth,
            "father_id_number": compose_id_number("500229", fbirth, rng.randrange(0, 500) * 2 + 1),
            "father_phone": f"13{rng.randrange(0, 10)}{rng.randrange(10**7, 10**8)}",
            "father_away_for_work": "是",
            "father_away_since": f"{rng.randrange(2015, 2025)}.{rng.randrange(1, 13)}",
            "father_work_province": rng.choice(["广东省", "浙江省", "重庆市", "福建省"]),
            "father_work_city": "东莞",
            "father_guardianship_capacity": "有",
            "mother_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "mother_phone": f"15{rng.randrange(0, 10)}{rng.randrange(10**7, 10**8)}",
            "mother_away_for_work": "是",
            "mother_away_since": f"{rng.randrange(2015, 2025)}年{rng.randrange(1, 13)}月",
            "mother_work_province": "44",
            "mother_guardianship_capacity": "有",
            "care_arrangement": "祖辈照料",
            # 2016 census: most left-behind children live with grandparents; ledgers name the carer
            # and the grandparents, rarely the carer's ID number.
            "paternal_grandfather_name": grandpa,
            "paternal_grandmother_name": grandma,
            "carer_name": grandma,
            "carer_relationship": "祖母",
            "carer_phone": f"18{rng.randrange(0, 10)}{rng.randrange(10**7, 10**8)}"
            if rng.random() < 0.8
            else "",
            "guardianship_rating": rng.choice(["较好", "一般", "差"]),
            "income_sources": "务工收入",
            "village_contact_name": "村主任",
        }
        ws.write_number(r, 0, i + 1)
        for j, c in enumerate(COLUMNS, 1):
            v = row.get(c.key)
            if v is None:
                continue
            if isinstance(v, date):
                ws.write_datetime(r, j, v, datefmt)
            else:
                ws.write_string(r, j, v)
        r += 1
    ws.write_string(r + 1, 0, "单位负责人：        复核人：        填表人：")
    wb.close()


def bench_shouhu(path: Path, again: bool = False) -> None:
    from shouhu.ledger import importer

    timings: dict[str, float] = {}
    real_read, real_write = importer.read_ledger, importer._write

    def timed(name: str, fn: Any) -> Any:
        def inner(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                timings[name] = round(time.perf_counter() - t, 2)

        return inner

    importer.read_ledger = timed("read", real_read)
    importer._write = timed("write", real_write)
    data = path.read_bytes()
    t0 = time.perf_counter()
    result = importer.import_ledger(data, path.name, actor=actor())
    seconds = time.perf_counter() - t0
    timings["validate+dedupe"] = round(seconds - timings.get("read", 0) - timings.get("write", 0), 2)
    note = f"created {result.created}, unchanged {result.unchanged}, invalid {result.invalid}; " + ", ".join(
        f"{k} {v} s" for k, v in timings.items()
    )
    report(result.rows, seconds, note, breakdown=timings, created=result.created, unchanged=result.unchanged)


def bench_floor(path: Path, copy: bool = False) -> None:
    """The least any import must do: read the cells and insert the same rows — children, parents,
    grandparents and carers — with no validation, status or events. `copy=True` inserts through
    `core.bulkcopy.bulk_insert` (COPY on PostgreSQL, as Shouhu's own write path does) instead of
    Django's bulk_create."""
    from django.db import models, transaction

    from shouhu.core.bulkcopy import bulk_insert
    from shouhu.core.models import Region
    from shouhu.ledger.columns import COLUMNS
    from shouhu.ledger.reader import read_cells
    from shouhu.registry.models import Child, Grandparent, Guardian, Parent

    t0 = time.perf_counter()
    _kind, rows = read_cells(path.read_bytes(), path.name)
    idx = {c.key: j for j, c in enumerate(COLUMNS, 1)}
    villages = {
        f"{r.parent.name}{r.name}": r.code
        for r in Region.objects.filter(kind__in=("village", "community")).select_related("parent")
    }
    sex = {"男": "1", "女": "2"}
    batch: dict[type[models.Model], list[models.Model]] = {
        Child: [],
        Parent: [],
        Grandparent: [],
        Guardian: [],
    }

    def write() -> None:
        for model, objs in batch.items():
            if copy:
                bulk_insert(model, objs)
            else:
                model._default_manager.bulk_create(objs, batch_size=2000)
            objs.clear()

    n = 0
    with transaction.atomic():
        for row in rows[4:]:
            if not isinstance(row[0], (int, float)) or not row[idx["name"]]:
                continue
            c = Child(
                name=row[idx["name"]],
                sex=sex.get(row[idx["sex"]], "1"),
                birth_date=row[idx["birth_date"]],
                id_number=row[idx["id_number"]],
                village_id=villages[row[idx["village"]]],
                address=row[idx["address"]],
                schooling="primary",
                care_arrangement="grandparents",
            )
            batch[Child].append(c)
            for rel in ("father", "mother"):
                batch[Parent].append(
                    Parent(
                        child=c,
                        relation=rel,
                        name=row[idx[f"{rel}_name"]],
                        phone=str(row[idx[f"{rel}_phone"]]),
                        away_for_work=True,
                        id_number=row[idx[f"{rel}_id_number"]] or None,
                    )
                )
            for member, relation in (
                ("paternal_grandfather", "grandfather"),
                ("paternal_grandmother", "grandmother"),
            ):
                if row[idx[f"{member}_name"]]:
                    batch[Grandparent].append(
                        Grandparent(
                            child=c, side="paternal", relation=relation, name=row[idx[f"{member}_name"]]
                        )
                    )
            if row[idx["carer_name"]]:
                batch[Guardian].append(
                    Guardian(
                        child=c,
                        role="carer",
                        name=row[idx["carer_name"]],
                        relationship="62",
                        phone=str(row[idx["carer_phone"]] or ""),
                    )
                )
            n += 1
            if len(batch[Child]) >= 5000:
                write()
        write()
    how = "bulk_insert (COPY / executemany)" if copy else "bulk_create"
    report(n, time.perf_counter() - t0, f"calamine + {how} (children, parents, grandparents, carers)")


def bench_iie(path: Path, limit: int, with_parents: bool = True) -> None:
    """django-import-export 4 with the resource a Django team would write for this ledger: the child's
    fields, matched on the ID number's blind index, and (the equivalent of what the floor and Shouhu
    write) the parents, grandparents and carer saved with each new child. `with_parents=False` is the
    lighter resource of the first runs, child fields only, kept for comparison."""
    import tablib
    from django.db import transaction
    from import_export import fields, resources, widgets

    from shouhu.core.crypto import blind_index
    from shouhu.core.models import Region
    from shouhu.ledger.columns import COLUMNS
    from shouhu.ledger.reader import read_cells
    from shouhu.registry.models import Child, Grandparent, Guardian, Parent

    villages = {
        f"{r.parent.name}{r.name}": r.code
        for r in Region.objects.filter(kind__in=("village", "community")).select_related("parent")
    }
    parent_keys = [f"{rel}_{f}" for rel in ("father", "mother") for f in ("name", "phone", "id_number")] + [
        "paternal_grandfather_name",
        "paternal_grandmother_name",
        "carer_name",
        "carer_phone",
    ]

    class ChildResource(resources.ModelResource):
        village = fields.Field(
            attribute="village", column_name="village", widget=widgets.ForeignKeyWidget(Region, field="code")
        )

        class Meta:
            model = Child
            fields = (
                "name",
                "sex",
                "ethnicity",
                "birth_date",
                "id_number",
                "id_number_index",
                "village",
                "address",
                "schooling",
                "care_arrangement",
                "guardianship_rating",
            )
            import_id_fields = ("id_number_index",)
            skip_unchanged = True
            use_bulk = False

        def before_import_row(self, row: Any, **kwargs: Any) -> None:
            row["sex"] = {"男": "1", "女": "2"}.get(row["sex"], row["sex"])
            row["ethnicity"] = "01"
            row["village"] = villages[row["village"]]
            row["id_number_index"] = blind_index("id", row["id_number"])
            row["schooling"] = "primary"
            row["care_arrangement"] = "grandparents"
            row["guardianship_rating"] = {"较好": "good", "一般": "adequate", "差": "poor"}[
                row["guardianship_rating"]
            ]

        def after_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            if not with_parents:
                return
            for member, relation in (
                ("paternal_grandfather", "grandfather"),
                ("paternal_grandmother", "grandmother"),
            ):
                if row[f"{member}_name"]:
                    Grandparent.objects.update_or_create(
                        child=instance,
                        side="paternal",
                        relation=relation,
                        defaults={"name": row[f"{member}_name"]},
                    )
            if row["carer_name"]:
                Guardian.objects.update_or_create(
                    child=instance,
                    role="carer",
                    defaults={
                        "name": row["carer_name"],
                        "relationship": "62",
                        "phone": str(row["carer_phone"] or ""),
                    },
                )
            for rel in ("father", "mother"):
                Parent.objects.update_or_create(
                    child=instance,
                    relation=rel,
                    defaults={
                        "name": row[f"{rel}_name"] or "",
                        "phone": str(row[f"{rel}_phone"] or ""),
                        "id_number": row[f"{rel}_id_number"] or None,
                        "away_for_work": True,
                    },
                )

    t0 = time.perf_counter()
    _kind, rows = read_cells(path.read_bytes(), path.name)
    idx = {c.key: j for j, c in enumerate(COLUMNS, 1)}
    keys = [
        "name",
        "sex",
        "ethnicity",
        "birth_date",
        "id_number",
        "village",
        "address",
        "schooling",
        "care_arrangement",
        "guardianship_rating",
    ]
    ds = tablib.Dataset(headers=[*keys, *parent_keys, "id_number_index"])
    for row in rows[4:]:
        if not isinstance(row[0], (int, float)) or not row[idx["name"]]:
            continue
        ds.append([row[idx[k]] for k in keys] + [row[idx[k]] for k in parent_keys] + [""])
        if len(ds) >= limit:
            break
    with transaction.atomic():
        result = ChildResource().import_data(ds, dry_run=False, raise_errors=True, use_transactions=False)
    n = len(ds)
    what = "child, parents, grandparents, carer" if with_parents else "child fields only"
    report(
        n,
        time.perf_counter() - t0,
        f"django-import-export, {what}; errors {result.has_errors()}",
        created=Child.objects.count(),
        parents=Parent.objects.count(),
    )


def bench_export() -> None:
    from shouhu.ledger.exporter import export_ledger

    out = OUT / "ledger-export.xlsx"
    t0 = time.perf_counter()
    n = export_ledger(out, user=actor(), reason="benchmark", status="all")
    report(n, time.perf_counter() - t0, f"official layout + 附件3, {out.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
