"""Load test (issue 10 part 11): concurrent clients of mixed roles against gunicorn with the production
settings on PostgreSQL, then the same while 8 clients hammer the token endpoint with wrong passwords.

    .venv/bin/python bench/load.py [--clients 200] [--seconds 60] [--children 2000] [--workers 4]
                                   [--threads 8] [--db shouhu_load] [--keep]

Steps: a fresh PostgreSQL database (dropped and recreated), `migrate`, `seed_demo --children N`, then
gunicorn (`config.wsgi`, gthread workers) with SHOUHU_DEBUG=0 and deployment keys set as
docs/operations.md says. Each role's demo login gets an API token (county administrator and auditor
with their TOTP); the clients then loop over list pages, searches, file views, contacts, visits and
reports, each with its role's token. Phase "normal": the clients alone; phase "hammer": the clients plus
8 attackers posting wrong passwords for real usernames as fast as they can. Prints error rate,
throughput, p50 and p95 per phase (and per request kind), and writes bench/out/load.json.

The clients are asyncio coroutines speaking HTTP/1.1 keep-alive on raw sockets: no dependency, and
little CPU on a machine whose two cores also run the server and the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_SERVER = os.environ.get("SHOUHU_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
HOST, PORT = "127.0.0.1", int(os.environ.get("SHOUHU_LOAD_PORT", "8765"))
# Which demo logins the clients use, and the share of clients per role.
MIX = [("village_worker", 0.55), ("township_supervisor", 0.25), ("county_admin", 0.15), ("auditor", 0.05)]


def prepare_db(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{PG_SERVER}/{name}"


def production_env(url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DATABASE_URL": url,
        "SHOUHU_DEBUG": "0",
        "SHOUHU_LOG_LEVEL": "ERROR",
        "SHOUHU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SHOUHU_SECRET_KEY": secrets.token_urlsafe(50),
        "SHOUHU_FIELD_KEY": Fernet.generate_key().decode(),
        "SHOUHU_INDEX_KEY": secrets.token_urlsafe(32),
        "SHOUHU_AUDIT_KEY": secrets.token_urlsafe(32),
        "SHOUHU_FILE_KEY": Fernet.generate_key().decode(),
        "SHOUHU_HUEY_IMMEDIATE": "1",
    }


# --- a tiny HTTP/1.1 keep-alive client ------------------------------------------------------------------


class Conn:
    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(HOST, PORT)
                return await self._once(method, path, headers or {}, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
        raise AssertionError

    async def _once(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{PORT}", "Connection: keep-alive"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *hdrs = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        for h in hdrs:
            k, _, v = h.partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v)
            elif k == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
            elif k == "connection" and "close" in v.lower():
                close = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# --- the workload -----------------------------------------------------------------------------------------


def totp(secret: str) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits) from a base32 secret, as the demo logins JSON gives it."""
    import base64
    import hashlib
    import hmac
    import struct

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1000000:06d}"


async def token_for(login: dict[str, Any]) -> str:
    body: dict[str, Any] = {"username": login["username"], "password": login["password"]}
    if login.get("totp_secret"):
        body["otp"] = totp(login["totp_secret"])
    status, data = await Conn().request(
        "POST", "/api/v1/auth/token/", {"Content-Type": "application/json"}, json.dumps(body).encode()
    )
    if status != 200:
        raise SystemExit(f"login {login['username']}: {status} {data[:200]!r}")
    return str(json.loads(data)["token"])


class Stats:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.codes: dict[int, int] = defaultdict(int)

    def add(self, kind: str, seconds: float, status: int) -> None:
        self.codes[status] += 1
        if status >= 400 or status == 0:
            self.errors[kind] += 1
        self.times[kind].append(seconds)

    def summary(self, seconds: float) -> dict[str, Any]:
        every = [t for ts in self.times.values() for t in ts]
        n, errors = len(every), sum(self.errors.values())

        def pct(ts: list[float], q: float) -> float:
            return round(statistics.quantiles(ts, n=100)[q - 1] * 1000, 1) if len(ts) >= 2 else 0.0

        return {
            "requests": n,
            "errors": errors,
            "error_rate": round(errors / n, 5) if n else 0,
            "throughput_rps": round(n / seconds, 1),
            "p50_ms": pct(every, 50),
            "p95_ms": pct(every, 95),
            "status": dict(sorted(self.codes.items())),
            "by_kind": {
                k: {
                    "n": len(ts),
                    "errors": self.errors.get(k, 0),
                    "p50_ms": pct(ts, 50),
                    "p95_ms": pct(ts, 95),
                }
                for k, ts in sorted(self.times.items())
            },
        }


async def client(
    token: str, seen: tuple[list[str], int], stats: Stats, stop: float, rng: random.Random
) -> None:
    """One user's loop. A role that opens no child file (the auditor) reads the audit trail instead."""
    conn = Conn()
    auth = {"Authorization": f"Token {token}", "Accept": "application/json"}
    names = ["张", "李", "王", "刘", "陈", "小", "xm", "zh"]
    ids, pages = seen
    while time.monotonic() < stop:
        kind = rng.choices(
            ["list", "search", "file", "contacts", "visits", "reports"], [30, 20, 25, 10, 10, 5]
        )[0]
        if not ids:
            kind = rng.choice(["audit_events", "audit_access"])
            path = f"/api/v1/audit/{kind.removeprefix('audit_')}/"
        elif kind == "list":
            path = f"/api/v1/children/?page={rng.randint(1, pages)}"
        elif kind == "search":
            from urllib.parse import quote

            path = f"/api/v1/children/?q={quote(rng.choice(names))}"
        elif kind == "reports":
            path = "/api/v1/reports/"
        else:
            child = rng.choice(ids) if ids else "0"
            path = {
                "file": f"/api/v1/children/{child}/",
                "contacts": f"/api/v1/children/{child}/contacts/",
                "visits": f"/api/v1/children/{child}/visits/",
            }[kind]
        t0 = time.perf_counter()
        try:
            status, _ = await conn.request("GET", path, auth)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
        stats.add(kind, time.perf_counter() - t0, status)


async def hammer(usernames: list[str], stats: Stats, stop: float, rng: random.Random) -> None:
    conn = Conn()
    while time.monotonic() < stop:
        body = json.dumps({"username": rng.choice(usernames), "password": secrets.token_hex(6)}).encode()
        t0 = time.perf_counter()
        try:
            status, _ = await conn.request(
                "POST", "/api/v1/auth/token/", {"Content-Type": "application/json"}, body
            )
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
        stats.add("login", time.perf_counter() - t0, status)


async def phase(
    name: str,
    clients: list[tuple[str, tuple[list[str], int]]],
    attackers: int,
    usernames: list[str],
    seconds: float,
) -> dict[str, Any]:
    stats, attack = Stats(), Stats()
    stop = time.monotonic() + seconds
    rng = random.Random(7)
    tasks = [client(tok, seen, stats, stop, random.Random(rng.random())) for tok, seen in clients]
    tasks += [hammer(usernames, attack, stop, random.Random(rng.random())) for _ in range(attackers)]
    t0 = time.perf_counter()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    out = {"phase": name, "clients": len(clients), "attackers": attackers, "seconds": round(elapsed, 1)}
    out["users"] = stats.summary(elapsed)
    if attackers:
        out["attack"] = attack.summary(elapsed)
    return out


async def visible_ids(token: str) -> tuple[list[str], int]:
    """Up to 200 ids of children the token's user may open, and the number of list pages (25 a page)."""
    status, data = await Conn().request(
        "GET", "/api/v1/children/?page_size=200", {"Authorization": f"Token {token}"}
    )
    if status != 200:
        return [], 1
    body = json.loads(data)
    return [str(r["id"]) for r in body["results"]], max(1, min(10, -(-int(body["count"]) // 25)))


async def main_async(args: Any, logins: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_role: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for x in logins:
        by_role[x["role"]].append(x)
    tokens: dict[str, list[tuple[str, tuple[list[str], int]]]] = {}
    for role, _share in MIX:
        tokens[role] = []
        for login in by_role[role][: 8 if role != "auditor" else 1]:
            tok = await token_for(login)
            tokens[role].append((tok, await visible_ids(tok)))
    clients: list[tuple[str, tuple[list[str], int]]] = []
    for role, share in MIX:
        for i in range(max(1, round(args.clients * share))):
            clients.append(tokens[role][i % len(tokens[role])])
    clients = clients[: args.clients]
    usernames = [x["username"] for x in logins if x["role"] in ("village_worker", "police", "school_staff")]
    await phase("warm-up", clients[:20], 0, usernames, 5)
    results = [await phase("normal", clients, 0, usernames, args.seconds)]
    results.append(await phase("hammer", clients, 8, usernames, args.seconds))
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--children", type=int, default=2000)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--db", default="shouhu_load")
    p.add_argument("--keep", action="store_true", help="reuse the database if it is already seeded")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    logins_path = OUT / "load-logins.json"
    url = f"{PG_SERVER}/{args.db}" if args.keep else prepare_db(args.db)
    env = production_env(url)
    env_file = OUT / "load-env.json"
    if args.keep and env_file.exists():
        env.update(json.loads(env_file.read_text()))  # the keys the data was encrypted with
    else:
        env_file.write_text(json.dumps({k: v for k, v in env.items() if k.startswith("SHOUHU_")}))
    py = sys.executable
    if not args.keep or not logins_path.exists():
        t0 = time.perf_counter()
        subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [
                py,
                "manage.py",
                "seed_demo",
                "--children",
                str(args.children),
                "--logins-json",
                str(logins_path),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"database ready in {time.perf_counter() - t0:.0f} s ({args.children} children)", flush=True)
    logins = json.loads(logins_path.read_text(encoding="utf-8"))
    gunicorn = subprocess.Popen(
        [
            str(Path(py).parent / "gunicorn"),
            "config.wsgi",
            "-w",
            str(args.workers),
            "--threads",
            str(args.threads),
            "-b",
            f"{HOST}:{PORT}",
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                asyncio.run(Conn().request("GET", "/healthz"))
                break
            except OSError:
                time.sleep(0.2)
        results = asyncio.run(main_async(args, logins))
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)
    meta = {
        "clients": args.clients,
        "seconds": args.seconds,
        "children": args.children,
        "workers": args.workers,
        "threads": args.threads,
        "load": os.getloadavg(),
    }
    (OUT / "load.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    for r in results:
        u = r["users"]
        line = (
            f"{r['phase']:>7}: {u['requests']} requests in {r['seconds']} s, {u['throughput_rps']} req/s, "
            f"errors {u['errors']} ({u['error_rate']:.2%}), p50 {u['p50_ms']} ms, p95 {u['p95_ms']} ms"
        )
        print(line)
        if "attack" in r:
            a = r["attack"]
            print(
                f"         attackers: {a['requests']} wrong logins, {a['throughput_rps']} req/s, "
                f"p50 {a['p50_ms']} ms, p95 {a['p95_ms']} ms, status {a['status']}"
            )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
