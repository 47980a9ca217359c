"""Parse a workbook in a child process under memory and CPU limits (issue 10 part 5, R1.9, R11.4).

A 1.5 KB xlsx with one cell at XFD1048576 makes the spreadsheet library allocate seventeen billion
cells and abort the whole process: run in the server, it killed runserver, a gunicorn worker, a huey
consumer. So the library runs here, in a process of its own (`python -m shouhu.ledger.sandbox`), with
`resource.setrlimit` on its address space, CPU time, file writes and core dumps; the parent waits with
a wall-clock timeout too. Whatever happens to the child — an abort, a memory error, a kill — the
parent sees an exit status and turns it into "the file cannot be used" (reader.py).

The child imports no Django: it reads the file from stdin and writes `(status, payload)` pickled to
stdout; the parent unpickles with a loader that admits only plain values and dates.
"""

from __future__ import annotations

import datetime
import io
import pickle
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

# Exit statuses of the child (a signal shows as a negative status in the parent).
OK, MEMORY = 0, 3
WALL_FACTOR = 2  # wall-clock allowance: CPU seconds × this + 5 (a loaded machine waits for I/O too)
CHILD = [sys.executable, "-m", "shouhu.ledger.sandbox"]  # + memory_mb, seconds


@dataclass
class Outcome:
    status: str  # "ok" | "password" | "corrupt" | "memory" | "time" | "crash"
    rows: list[list[Any]]
    detail: str = ""


class _Values(pickle.Unpickler):
    """Only what a sheet's cells are: lists, tuples, str, numbers, bool, None and the datetime types."""

    ALLOWED = {("datetime", n) for n in ("date", "datetime", "time", "timedelta")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return getattr(datetime, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a cell value")


def parse(data: bytes, *, memory_mb: int, seconds: int) -> Outcome:
    """Read the first non-empty sheet of an xlsx/xls in a limited child process."""
    cmd = [*CHILD, str(memory_mb), str(seconds)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(data, timeout=seconds * WALL_FACTOR + 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return Outcome("time", [], "wall-clock limit")
    if proc.returncode == MEMORY:
        return Outcome("memory", [], err.decode(errors="replace")[-300:])
    if proc.returncode in (-9, -24):  # SIGKILL at the hard CPU limit, SIGXCPU at the soft one
        return Outcome("time", [], f"signal {-proc.returncode}")
    if proc.returncode != OK:  # an abort (-6) when an allocation fails in the library, or any crash
        return Outcome("crash", [], f"exit {proc.returncode}: {err.decode(errors='replace')[-300:]}")
    try:
        status, payload = _Values(io.BytesIO(out)).load()
    except Exception as exc:  # a truncated or unexpected answer: the file is not usable either
        return Outcome("crash", [], f"bad answer: {exc}")
    return Outcome(str(status), payload if status == "ok" else [], "" if status == "ok" else str(payload))


def _limit(memory_mb: int, seconds: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024, memory_mb * 1024 * 1024))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 2))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # the parser writes no file
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _read(data: bytes) -> tuple[str, Any]:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            if any(any(c not in ("", None) for c in r) for r in rows):
                return "ok", rows
        return "ok", []
    except pc.PasswordError:
        return "password", ""
    except MemoryError:
        raise
    except Exception as exc:  # calamine raises several error types for damaged files
        text = str(exc).lower()
        return ("password" if "password" in text or "encrypt" in text else "corrupt"), str(exc)[:300]


def main(argv: list[str]) -> int:
    memory_mb, seconds = int(argv[1]), int(argv[2])
    data = sys.stdin.buffer.read()
    _limit(memory_mb, seconds)
    try:
        answer = pickle.dumps(_read(data), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        sys.stderr.write("memory limit\n")
        return MEMORY
    sys.stdout.buffer.write(answer)
    sys.stdout.buffer.flush()
    return OK


if __name__ == "__main__":
    sys.exit(main(sys.argv))
