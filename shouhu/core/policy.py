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
        ["dibao", "tekun", "orphan_allowance", "poverty_registered"],
        "视为“生活困难”重点对象的救助类别（代码表 assistance；poverty_registered 为建档立卡贫困户）",
        "城府办发〔2016〕153号 二(二)3",
    ),
    # --- protection chain (R5, R6.6): time limits of each step and abuse limits of the public page ---
    "protection_limit_received_hours": (
        1,
        "公安机关受理报告的时限（小时，自报告时起）",
        "城府办发〔2016〕153号 二(二)2“及时受理”“第一时间出警”",
    ),
    "protection_limit_responded_hours": (
        24,
        "公安机关采取应急处置措施的时限（小时，自受理时起）",
        "城府办发〔2016〕153号 二(二)2",
    ),
    "protection_limit_notified_hours": (
        24,
        "公安机关通报乡镇人民政府（街道办事处）的时限（小时，自处置时起）",
        "城府办发〔2016〕153号 二(二)2“及时通报”",
    ),
    "protection_limit_assessed_hours": (
        72,
        "乡镇会同民政、公安完成调查评估的时限（小时，自接到通报时起）",
        "城府办发〔2016〕153号 二(二)3",
    ),
    "protection_limit_plan_hours": (
        168,
        "制定帮扶方案并发出转介的时限（小时，自评估完成时起）",
        "城府办发〔2016〕153号 二(二)3",
    ),
    "protection_late_report_hours": (
        24,
        "强制报告责任人自发现至报告的最长时限（小时），超过即为迟报，记入追责",
        "城府办发〔2016〕153号 二(二)1“第一时间”；未成年人保护法第十一条",
    ),
    "protection_missed_report_hours": (
        24,
        "走访或学校记录发现应报告情形后，未报告即视为漏报的时限（小时）",
        "城府办发〔2016〕153号 二(二)1",
    ),
    "protection_public_reports_per_hour": (
        5,
        "公众举报页面：同一网络地址每小时最多提交的举报数",
        "平台防滥用设置",
    ),
    "protection_public_reports_per_browser_hour": (
        3,
        "公众举报页面：同一浏览器每小时最多提交的举报数",
        "平台防滥用设置",
    ),
    "protection_public_surge_per_hour": (
        30,
        "公众举报页面：全县一小时内收到的举报达到该数时提示县民政局核查（不拒收）",
        "平台防滥用设置",
    ),
    "protection_revocation_nonperformance_months": (
        6,
        "拒不履行监护职责达到该月数可申请撤销监护人资格",
        "城府办发〔2016〕153号 二(二)4；民法典第三十六条",
    ),
    "audit_retention_days": (
        183,
        "访问日志保存天数，期满由每日扫描删除并记入操作记录（不少于183天即六个月；操作记录长期保存）",
        "网络安全法第二十一条",
    ),
    # --- access (R11.1–R11.3): issue 9 ---
    "identifier_lookups_per_day": (
        30,
        "每人每天按身份证号码或电话查找儿童（含公安按号码或姓名查找）的最多次数；每次查找记入访问日志",
        "个人信息保护法第二十八条、第五十一条；等保2.0 三级 最小权限",
    ),
    "duplicate_answers_per_day": (
        50,
        "每人每天登记或导入时被告知“已在辖区外建档”的最多次数；用完后当天不再逐个说明，须联系乡镇",
        "个人信息保护法第五十一条（防止借查重探知辖区外档案）",
    ),
    "audit_flag_files_per_day": (
        200,
        "审计：一名用户一天查看的儿童档案超过该数即标记异常",
        "网络安全法第二十一条；等保2.0 三级 安全审计",
    ),
    "audit_flag_reveals_per_day": (
        20,
        "审计：一名用户一天查看完整证件号码或电话超过该次数即标记异常",
        "个人信息保护法第五十一条",
    ),
    "audit_night_hours": (
        ["22:00", "06:00"],
        "审计：在此时段（县时间，起-止）查看儿童档案即标记为夜间访问",
        "等保2.0 三级 安全审计",
    ),
    # --- care (R2, R3): issue 4 ---
    "visit_interval_days": (
        {"poor": 14, "adequate": 30, "good": 90, "unrated": 30},
        "走访频次（天）：按监护情况评估（差/一般/较好/未评估）",
        "城府办发〔2016〕153号 二(一)2 定期走访、全面排查",
    ),
    "visit_interval_key_target_days": (
        30,
        "重点对象至少每隔多少天核查走访一次",
        "城府办发〔2016〕153号 二(一)2、二(二)3",
    ),
    "semester_spring": (
        ["02-20", "07-10"],
        "春季学期默认起止（月-日；重庆春季约2月20日前后开学），可按年度在“学期”表中修改",
        "二(一)1；重庆市中小学校历",
    ),
    "semester_autumn": (
        ["09-01", "01-20"],
        "秋季学期默认起止（月-日，止于次年）",
        "二(一)1；重庆市中小学校历",
    ),
    "meeting_break_counts_for": (
        "previous",
        "假期（寒假春节、暑假）见面计入哪个学期：previous 前一学期、next 后一学期、both 前后均计、none 不计",
        "城府办发〔2016〕153号 二(一)1 每学期至少见面交流1次",
    ),
    "agreement_missing_days": (
        30,
        "留守儿童委托照料而未签订委托监护协议，自登记（或认定留守）起多少天发出预警",
        "城府办发〔2016〕153号 二(一)1；未成年人保护法第二十二条",
    ),
    "agreement_expiry_warning_days": (30, "委托监护协议到期前多少天发出提醒", "未成年人保护法第二十二条"),
    "follow_after_exit_days": (
        180,
        "退出留守（年满16周岁或父母返乡）后作为关注对象继续跟踪的天数，期满提示村（居）儿童主任归档",
        "城府办发〔2016〕153号 二(一)2 动态管理",
    ),
    "meeting_warning_days": (
        30,
        "学期结束前多少天起，本学期尚未与父母见面即发出预警",
        "城府办发〔2016〕153号 二(一)1 每学期至少见面交流1次",
    ),
    "alert_escalation_hours": (72, "预警发出后多少小时未处理即上报乡镇儿童督导员", "三(三) 加强考核"),
    "admonitions_before_escalation": (
        2,
        "同一儿童的监护人在期限内被劝诫、制止达到多少次即升级（监护干预）",
        "城府办发〔2016〕153号 二(一)1、二(二)4",
    ),
    "admonition_window_days": (365, "计算重复劝诫次数的期限（天）", "二(一)1"),
    # --- ledger (R1.9): issue 3 ---
    "ledger_import_max_rows": (
        200000,
        "一次导入台账的最大数据行数，超过即拒收整个文件（请按乡镇或村拆分）",
        "平台运维；城府办发〔2016〕153号 二(一)2 信息台账",
    ),
    # --- uploads that cannot hurt (issue 10 part 5, R11.4) ---
    "ledger_unzipped_max_mb": (
        500,
        "上传的 Excel 工作簿解压后的最大总大小（MB），超过即拒收",
        "平台运维；等保 2.0",
    ),
    "ledger_zip_max_ratio": (
        200,
        "工作簿中单个部件的最大压缩比（倍），超过视为压缩炸弹拒收",
        "平台运维；等保 2.0",
    ),
    "ledger_max_columns": (500, "台账工作表的最大列数，超过即拒收", "平台运维；等保 2.0"),
    "ledger_parse_memory_mb": (2048, "解析一个上传工作簿的子进程最多可用的内存（MB）", "平台运维；等保 2.0"),
    "ledger_parse_seconds": (
        120,
        "解析一个上传工作簿的子进程最多可用的 CPU 时间（秒）",
        "平台运维；等保 2.0",
    ),
    "ledger_upload_keep_hours": (
        24,
        "上传的台账文件（加密保存）在检查完成后等待导入、或导入后供下载错误报告的最长时间（小时），到期删除",
        "个人信息保护法第十九条（保存期限最短）",
    ),
    # --- schooling (R4.2, R1.10): issue 13 ---
    "dropout_consecutive_days": (
        3,
        "连续无故缺课达到该上学日数（周一至周五）即登记为疑似辍学，立即发出辍学预警",
        "城府办发〔2016〕153号 二(一)3 控辍保学",
    ),
    "dropout_month_days": (
        5,
        "一个自然月内累计无故缺课达到该天数即登记为疑似辍学",
        "城府办发〔2016〕153号 二(一)3 控辍保学",
    ),
    "dropout_limit_registered_days": (1, "发现后登记辍学的时限（天）", "城府办发〔2016〕153号 二(一)3"),
    "dropout_limit_persuading_days": (
        3,
        "登记辍学后学校会同村（居）首次上门劝返的时限（天）",
        "城府办发〔2016〕153号 二(一)3",
    ),
    "dropout_limit_reported_days": (
        7,
        "劝返未果时向县教委和乡镇书面报告的时限（天，自开始劝返时起）",
        "城府办发〔2016〕153号 二(一)3",
    ),
    "school_age_range": (
        [6, 15],
        "义务教育学龄（周岁，含两端）：台账中该年龄段不在任何学校名册上的儿童列为疑似失学辍学",
        "义务教育法第十一条；城府办发〔2016〕153号 二(一)3",
    ),
    # --- documents and attachments (R11.6, R11.3) ---
    "attachment_max_bytes": (
        10 * 1024 * 1024,
        "单个附件的最大字节数（默认 10 MB），超过即拒收",
        "平台运维；个人信息保护法第五十一条（最小必要）",
    ),
    "attachment_types": (
        ["pdf", "jpg", "png", "webp", "docx", "xlsx"],
        "允许上传的附件类型（按文件内容识别）：pdf、jpg、png、webp、docx、xlsx",
        "平台运维",
    ),
    # --- logins, sessions and tokens (R11.4; issue 10 parts 1-3) ---
    "login_failure_limit": (
        5,
        "登录失败次数上限：同一用户名或同一网络地址在时间窗内失败达到该次数即锁定",
        "等保2.0 三级 身份鉴别（登录失败处理）",
    ),
    "login_failure_window_minutes": (15, "计算登录失败次数的时间窗（分钟）", "等保2.0 三级 身份鉴别"),
    "login_lock_minutes": (15, "登录锁定的时长（分钟），督导员或管理员可提前解除", "等保2.0 三级 身份鉴别"),
    "second_factor_extra_roles": (
        [],
        "除系统管理员、县民政局和审计员外，还须使用动态验证码（第二因素）登录的角色代码",
        "等保2.0 三级 身份鉴别（两种或以上组合的鉴别技术）",
    ),
    "session_idle_minutes": (
        30,
        "网页会话无操作多少分钟后自动退出",
        "等保2.0 三级 身份鉴别（登录连接超时自动退出）",
    ),
    "session_absolute_hours": (8, "网页会话自登录起最长有效小时数", "等保2.0 三级 身份鉴别"),
    "api_token_hours": (8, "登录取得的 API 令牌有效小时数", "等保2.0 三级 身份鉴别"),
    "service_token_max_days": (365, "为其他系统签发的长期 API 令牌最长有效天数", "等保2.0 三级 访问控制"),
    # --- services and social forces (R8.3, R9): issue 17 ---
    "service_need_offer_days": (
        3,
        "儿童服务需求登记后，推送给服务机构的时限（天）",
        "城府办发〔2016〕153号 二(一)4 需求与服务有效对接",
    ),
    "service_need_accept_days": (
        5,
        "服务机构收到推送后接收服务需求的时限（天）",
        "城府办发〔2016〕153号 二(一)4",
    ),
    "service_need_deliver_days": (
        30,
        "服务机构接收后提供服务的时限（天）",
        "城府办发〔2016〕153号 二(一)4、二(一)5",
    ),
    "service_need_unmet_days": (
        14,
        "服务需求登记后超过该天数仍未提供服务，即列入乡镇儿童督导员的“未落实需求”清单",
        "城府办发〔2016〕153号 二(一)4；三(三) 加强考核",
    ),
    "webhook_max_attempts": (6, "外发 Webhook 最多尝试次数（含首次）", "平台运维"),
    "webhook_backoff_seconds": (60, "外发 Webhook 重试的初始间隔（秒），每次加倍", "平台运维"),
}


def param(key: str) -> Any:
    """The current value of a policy parameter (falls back to the default if the row was removed)."""
    from shouhu.core.models import PolicyParameter

    row = PolicyParameter.objects.filter(key=key).values_list("value", flat=True).first()
    return row if row is not None else DEFAULTS[key][0]
