"""Two choice values renamed so they no longer read like role codes (issue 9: role codes appear only in
the capability table): a visit by the village's 儿童主任 is `child_director`, an admonition by the
police is `public_security`. Stored rows are converted both ways."""

from django.db import migrations, models

RENAMES = [("Visit", "visitor_role", "village_worker", "child_director"), ("Admonition", "by_body", "police", "public_security")]


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    for model, field, old, new in RENAMES:
        apps.get_model("care", model).objects.filter(**{field: old}).update(**{field: new})


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    for model, field, old, new in RENAMES:
        apps.get_model("care", model).objects.filter(**{field: new}).update(**{field: old})


class Migration(migrations.Migration):
    dependencies = [("care", "0002_family_duty_and_village_work")]

    operations = [
        migrations.AlterField(
            model_name="admonition",
            name="by_body",
            field=models.CharField(
                choices=[("village_committee", "村（居）民委员会"), ("public_security", "公安机关")],
                max_length=20,
                verbose_name="实施单位",
            ),
        ),
        migrations.AlterField(
            model_name="visit",
            name="visitor_role",
            field=models.CharField(
                choices=[
                    ("child_director", "儿童主任"),
                    ("party_cadre", "党员干部上门家访"),
                    ("resident_cadre", "驻村干部探访"),
                    ("social_worker", "专业社会工作者随访"),
                ],
                default="child_director",
                max_length=20,
                verbose_name="走访人身份",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
