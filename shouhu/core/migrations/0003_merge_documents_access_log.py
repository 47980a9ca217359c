"""Merge of the document service (0002_documents_attachments) and the sealed access log
(0002_access_log_sealed): the access log's actions are the union of both."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_access_log_sealed"),
        ("core", "0002_documents_attachments"),
    ]

    operations = [
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
                    ("document", "生成/下载文书"),
                    ("download", "下载附件"),
                ],
                max_length=12,
            ),
        ),
    ]
