"""Uploaded ledgers encrypted at rest and deleted when their job ends (issue 10 part 5): the uploads of
ended jobs are removed; those of jobs still running or waiting are encrypted with the file key."""

from typing import Any

from django.db import migrations

import shouhu.core.crypto

ENDED = ("done", "failed", "cancelled")


def encrypt_uploads(apps: Any, schema_editor: Any) -> None:
    from shouhu.core.crypto import file_fernet

    connection = schema_editor.connection
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE ledger_importjob SET content = NULL WHERE state IN (%s, %s, %s)", list(ENDED)
        )
        cur.execute("SELECT id, content FROM ledger_importjob WHERE content IS NOT NULL")
        rows = cur.fetchall()
        for pk, content in rows:
            token = file_fernet().encrypt(bytes(content))
            cur.execute("UPDATE ledger_importjob SET content = %s WHERE id = %s", [token, pk])


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="importjob",
            name="content",
            field=shouhu.core.crypto.EncryptedBinaryField(blank=True, null=True),
        ),
        migrations.RunPython(encrypt_uploads, migrations.RunPython.noop),
    ]
