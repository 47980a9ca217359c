"""Set-based inserts of many new rows (DESIGN principle 5) that do not need their primary keys back.

Django 5.2's `bulk_create` is slow for the 100,000-row ledger import on both embedded and production
databases, for backend-specific reasons (docs/benchmarks.md):
- PostgreSQL: each batch is `INSERT … SELECT * FROM UNNEST(%s::text[], …)`, and psycopg escapes every
  value into a text array in Python (a regex per value): a third of the write. COPY takes the rows as
  one stream that psycopg's C dumpers format.
- SQLite: its 999-variable limit cuts a 50-column child into INSERTs of 19 rows, each a new statement
  built and parsed. One prepared INSERT run by the sqlite3 module's `executemany` (in C) does not.

`bulk_insert` prepares each value exactly as `bulk_create` would (`pre_save`, `get_db_prep_save`: the
same encryption, JSON, dates and foreign keys), with a shortcut for values the driver takes as they
are, so the rows stored are the same on every backend (tested). Other backends use `bulk_create`.
Auto-increment primary keys are left to the database and not read back: callers use this only for
rows they do not look up again in the same breath.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from django.db import connections, models, router

BATCH_SIZE = 2000  # bulk_create batches on backends without a fast path

# Field classes whose database value is the attribute as Python holds it, when the value is of one of
# the types below. Exact classes only: a subclass (an encrypted text field, say) may transform.
_AS_IS: tuple[type[models.Field[Any, Any]], ...] = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.DateField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.AutoField,
    models.BigAutoField,
)
_PLAIN_VALUES = frozenset({str, bool, int, date, type(None)})
# PostgreSQL stores a UUID natively (psycopg adapts it); SQLite as 32 hex digits (the prepared path).
_NATIVE_UUID = {"postgresql"}


def _insert_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The columns of an INSERT: every concrete field but a database-generated primary key."""
    return [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and getattr(f, "db_returning", False)) and not getattr(f, "generated", False)
    ]


def _getter(field: models.Field[Any, Any], connection: Any) -> Callable[[models.Model], Any]:
    """How one column's value is read from an instance: as `bulk_create` prepares it, with a shortcut
    (a third of the time in the profile) for plain fields and foreign keys to them."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    plain_types = _AS_IS + ((models.UUIDField,) if connection.vendor in _NATIVE_UUID else ())
    plain_values = _PLAIN_VALUES | ({UUID} if connection.vendor in _NATIVE_UUID else set())
    plain = (
        type(target) in plain_types
        and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False)
    )
    name = field.attname

    def prepared(obj: models.Model) -> Any:
        return field.get_db_prep_save(field.pre_save(obj, True), connection=connection)

    if not plain:
        return prepared

    def as_is(obj: models.Model) -> Any:
        value = getattr(obj, name)
        return value if type(value) in plain_values else prepared(obj)

    return as_is


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new, unsaved instances of `model`: one COPY (PostgreSQL), one prepared INSERT run for
    every row (SQLite) or batched INSERTs (others).

    Database-generated primary keys are not set on `objs` afterwards; every other field is saved as
    `Model.save()` would save it, and the instances are marked as saved to `model`'s database.
    """
    if not objs:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor not in ("postgresql", "sqlite"):
        model._default_manager.using(alias).bulk_create(objs, batch_size=BATCH_SIZE)
        return
    fields = _insert_fields(model)
    qn = connection.ops.quote_name
    table, columns = qn(model._meta.db_table), ", ".join(qn(str(f.column)) for f in fields)
    getters = [_getter(f, connection) for f in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for obj in objs:
                    copy.write_row([get(obj) for get in getters])
        else:
            marks = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
            for i in range(0, len(objs), BATCH_SIZE):  # lists, not a generator: the debug cursor counts
                cursor.executemany(sql, [[get(obj) for get in getters] for obj in objs[i : i + BATCH_SIZE]])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
