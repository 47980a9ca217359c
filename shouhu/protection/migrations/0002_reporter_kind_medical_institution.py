"""A report from a clinic or hospital is `medical_institution`, no longer a value that reads like the
`medical` role code (issue 9: role codes appear only in the capability table). Stored rows converted."""

from django.db import migrations, models


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("protection", "Report").objects.filter(reporter_kind="medical").update(
        reporter_kind="medical_institution"
    )


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("protection", "Report").objects.filter(reporter_kind="medical_institution").update(
        reporter_kind="medical"
    )


class Migration(migrations.Migration):
    dependencies = [("protection", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="report",
            name="reporter_kind",
            field=models.CharField(
                choices=[
                    ("school", "学校"),
                    ("kindergarten", "幼儿园"),
                    ("medical_institution", "医疗机构"),
                    ("village_committee", "村（居）民委员会"),
                    ("social_work", "社会工作服务机构"),
                    ("relief", "救助管理机构"),
                    ("citizen", "公民"),
                    ("organisation", "其他社会组织"),
                ],
                max_length=20,
                verbose_name="报告人类别",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
