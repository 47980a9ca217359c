"""Policy numbers as data (DESIGN principle 3): defaults seeded from the plan, edited by administrators.

Rules read them through `param()`; the defaults below are only what a fresh database starts with.
"""

from __future__ import annotations

from typing import Any

# key: (default, description, source)
DEFAULTS: dict[str, tuple[Any, str, str]] = {
    "left_behind_age_limit": (
        16,
        "农村留守儿童年龄上限：不满该周岁（含生日当天仍不满）",
        "国发〔2016〕13号；城府办发〔2016〕153号 二(一)1；民法典第二百零一条",
    ),
    "census_reference_date": (
        "2016-03-31",
        "2016年摸底排查的统计时点（台账“截至”日期的默认值），管理员可按民发〔2016〕42号文件核定后修改",
        "民发〔2016〕42号",
    ),
    "hardship_assistance_codes": (
        ["dibao", "tekun", "orphan_allowance"],
        "视为“生活困难”重点对象的救助类别（代码表 assistance）",
        "城府办发〔2016〕153号 二(二)3",
    ),
    "audit_retention_days": (
        183,
        "操作日志、访问日志最少保存天数（不少于六个月）",
        "网络安全法第二十一条",
    ),
}


def param(key: str) -> Any:
    """The current value of a policy parameter (falls back to the default if the row was removed)."""
    from shouhu.core.models import PolicyParameter

    row = PolicyParameter.objects.filter(key=key).values_list("value", flat=True).first()
    return row if row is not None else DEFAULTS[key][0]
