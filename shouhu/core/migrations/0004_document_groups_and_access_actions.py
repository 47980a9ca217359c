"""A generated document records the field groups of the child's file it printed (it opens only for readers
who see them all), and the access log tells a document's generation from its download (issue 14 part 6,
issue 9 parts 2 and 6)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_merge_documents_access_log"),
    ]

    operations = [
        migrations.AddField(
            model_name="generateddocument",
            name="groups",
            field=models.JSONField(blank=True, default=list, verbose_name="包含的档案内容"),
        ),
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
                    ("generate", "出具文书"),
                    ("document", "下载文书"),
                    ("download", "下载附件"),
                ],
                max_length=12,
            ),
        ),
    ]
