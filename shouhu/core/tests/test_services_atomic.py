"""Every public write service is atomic (issue 11 part 5; DESIGN principle 6).

A test inside the test transaction cannot see a missing `atomic`: the row written before a failing
event stays invisible until the rollback. So this test reads the code instead. Every public function
of a `services` module (or package) that writes — saves, creates, updates, deletes, bulk-inserts or
records events — must be decorated with `transaction.atomic` or open `transaction.atomic()` itself.
The behaviour is then proven outside the test transaction by each app's `test_transactions.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

SHOUHU = Path(__file__).resolve().parents[2]
WRITES = {
    "save",
    "create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
    "get_or_create",
    "update_or_create",
    "bulk_insert",
    "record_events",
    "record_event",
}


# Public helpers that only ever run inside their callers' transaction (their callers are checked).
INSIDE_CALLERS = {
    "set_child_school",  # schooling: the file's school follows the enrolment, inside roster/enrolment writes
}


def service_modules() -> list[Path]:
    """`<app>/services.py` and the modules of an `<app>/services/` package (not the `services` app)."""
    found = [p for p in SHOUHU.rglob("services.py") if "tests" not in p.parts]
    found += [
        p
        for p in SHOUHU.glob("*/services/*.py")
        if "tests" not in p.parts and p.parent.parent != SHOUHU  # shouhu/services/ is an app
    ]
    found += [p for p in SHOUHU.glob("*/*/services/*.py") if "tests" not in p.parts]
    return sorted(set(found))


def _calls(fn: ast.FunctionDef) -> set[str]:
    """Names of what `fn` calls in its own body (nested functions are not its writes)."""
    names: set[str] = set()
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            f = node.func
            names.add(f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else "")
        stack.extend(ast.iter_child_nodes(node))
    return names


def _atomic(fn: ast.FunctionDef) -> bool:
    if any("atomic" in ast.unparse(d) for d in fn.decorator_list):
        return True
    return any(
        isinstance(node, ast.With) and any("atomic" in ast.unparse(i.context_expr) for i in node.items)
        for node in ast.walk(fn)
    )


def non_atomic_writers(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(SHOUHU.parent) if path.is_relative_to(SHOUHU.parent) else path}:{fn.lineno} {fn.name}"
        for fn in tree.body
        if isinstance(fn, ast.FunctionDef)
        and not fn.name.startswith("_")
        and fn.name not in INSIDE_CALLERS
        and _calls(fn) & WRITES
        and not _atomic(fn)
    ]


def test_the_inspection_finds_the_service_modules() -> None:
    names = {str(p.relative_to(SHOUHU)) for p in service_modules()}
    assert {"registry/services.py", "care/services.py", "core/documents/services.py"} <= names


def test_the_inspection_catches_a_writer_without_atomic(tmp_path: Path) -> None:
    bad = tmp_path / "services.py"
    bad.write_text(
        "from django.db import transaction\n"
        "def add(*, actor):\n    Thing.objects.create()\n    record_events([])\n"
        "@transaction.atomic\ndef fine(*, actor):\n    Thing.objects.create()\n"
        "def reads(*, actor):\n    return Thing.objects.filter()\n",
        encoding="utf-8",
    )
    assert [x.split()[-1] for x in non_atomic_writers(bad)] == ["add"]


def test_every_public_write_service_is_atomic() -> None:
    offenders = [x for p in service_modules() for x in non_atomic_writers(p)]
    assert not offenders, "write services without transaction.atomic: " + ", ".join(offenders)
