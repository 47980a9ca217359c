"""The access log sealed row by row and numbered without gaps (issue 9 part 6), with the count of files
and the query of each read; events carry a visibility class (part 3); nobody is a superuser (part 5).

Rows already in the log are numbered in the order they were written and sealed with the audit key at
migration time, so `verify_audit` holds from the first row on. The superuser flag is cleared (it
bypassed the access model; the former demo administrator had it) and staff status follows the
configuring role; the operator grants roles with `manage.py grant_role` (docs/operations.md)."""

from datetime import UTC

from django.db import migrations, models


def seal_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    from shouhu.core.events import mac, seal_key

    AccessLog = apps.get_model("core", "AccessLog")
    AccessLogHead = apps.get_model("core", "AccessLogHead")
    key = seal_key()
    seq = 0
    for row in AccessLog.objects.order_by("at", "id").iterator(chunk_size=2000):
        seq += 1
        row.seq = seq
        row.mac = mac(
            [
                "access", seq, row.at.astimezone(UTC).isoformat(), row.user_id, row.action, row.child_id,
                row.region_code, row.count, row.query, row.identifiers, row.detail, row.ip,
            ],
            key,
        )
        row.save(update_fields=["seq", "mac"])
    head = AccessLogHead(id=1, first_seq=1, last_seq=seq)
    head.mac = mac(["access-head", 1, seq], key)
    head.save()


def no_superusers(apps, schema_editor):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    User = apps.get_model("core", "User")
    RoleAssignment = apps.get_model("core", "RoleAssignment")
    now = timezone.now()
    configuring = set(
        RoleAssignment.objects.filter(role="system_admin", starts_at__lte=now)
        .exclude(expires_at__lte=now)
        .values_list("user_id", flat=True)
    )
    User.objects.filter(is_superuser=True).update(is_superuser=False)
    User.objects.exclude(pk__in=configuring).filter(is_staff=True).update(is_staff=False)
    User.objects.filter(pk__in=configuring).update(is_staff=True)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="AccessLogHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("first_seq", models.BigIntegerField(default=1)),
                ("last_seq", models.BigIntegerField(default=0)),
                ("mac", models.CharField(blank=True, max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="event",
            name="visibility",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(model_name="accesslog", name="seq", field=models.BigIntegerField(null=True)),
        migrations.AddField(
            model_name="accesslog", name="region_code", field=models.CharField(blank=True, max_length=12)
        ),
        migrations.AddField(
            model_name="accesslog",
            name="count",
            field=models.PositiveIntegerField(default=0, verbose_name="档案数"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="query",
            field=models.CharField(blank=True, max_length=500, verbose_name="查询条件"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="identifiers",
            field=models.BooleanField(default=False, verbose_name="含完整证件号码或电话"),
        ),
        migrations.AddField(
            model_name="accesslog", name="mac", field=models.CharField(default="", max_length=64), preserve_default=False
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
        migrations.RunPython(no_superusers, migrations.RunPython.noop),
        migrations.AlterField(model_name="accesslog", name="seq", field=models.BigIntegerField(unique=True)),
        migrations.AlterField(
            model_name="accesslog",
            name="action",
            field=models.CharField(
                choices=[
                    ("view", "查看档案"),
                    ("list", "浏览列表"),
                    ("search", "查找"),
                    ("form", "打开编辑表单"),
                    ("care", "查看关爱记录"),
                    ("case", "查看救助保护个案"),
                    ("referral", "查看转介"),
                    ("reveal", "查看完整证件号码或电话"),
                    ("lookup", "证件号码查询"),
                    ("export", "导出"),
                    ("api_read", "接口读取档案"),
                    ("api_list", "接口读取列表"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterModelOptions(
            name="accesslog",
            options={"ordering": ["-seq"], "verbose_name": "访问日志", "verbose_name_plural": "访问日志"},
        ),
        migrations.AddIndex(
            model_name="accesslog", index=models.Index(fields=["user", "at"], name="accesslog_user_at")
        ),
    ]
