"""Tests for name pinyin keys (R1.8): surnames must read as surnames."""

from __future__ import annotations

import pytest

from shouhu.core.pinyin import SURNAME_READINGS, name_pinyin, search_key


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("张晓明", "zhangxiaoming", "zxm"),
        ("单田芳", "shantianfang", "stf"),
        ("曾小贤", "zengxiaoxian", "zxx"),
        ("解放", "xiefang", "xf"),
        ("仇小梅", "qiuxiaomei", "qxm"),
        ("区志航", "ouzhihang", "ozh"),
        ("朴树", "piaoshu", "ps"),
        ("查良镛", "zhaliangyong", "zly"),
        ("盖聂", "genie", "gn"),
        ("翟天临", "zhaitianlin", "ztl"),
        ("覃海洋", "qinhaiyang", "qhy"),
        ("乐嘉", "yuejia", "yj"),
        ("重阳", "chongyang", "cy"),
        ("万俟卨", "moqixie", "mqx"),
        ("尉迟恭", "yuchigong", "ycg"),
        ("长孙无忌", "zhangsunwuji", "zswj"),
        ("欧阳娜娜", "ouyangnana", "oynn"),
        ("司马光", "simaguang", "smg"),
        ("诸葛亮", "zhugeliang", "zgl"),
        ("上官婉儿", "shangguanwaner", "sgwe"),
        ("令狐冲", "linghuchong", "lhc"),
        ("吕小布", "lvxiaobu", "lxb"),
    ],
)
def test_names(name: str, full: str, initials: str) -> None:
    assert name_pinyin(name) == (full, initials)


def test_polyphonic_character_later_in_name_keeps_default() -> None:
    # 曾 is only "zeng" as the surname; in the given name pypinyin decides.
    assert name_pinyin("王曾")[0].startswith("wang")
    assert name_pinyin("单")[0] == "shan"


def test_whitespace_and_middle_dot_stripped() -> None:
    assert name_pinyin("阿依古丽·买买提") == ("ayigulimaimaiti", "ayglmmt")
    assert name_pinyin("阿依古丽•买买提") == name_pinyin("阿依古丽·买买提")
    assert name_pinyin(" 张\u3000晓 明 ") == ("zhangxiaoming", "zxm")


def test_latin_passes_through_lower_cased() -> None:
    assert name_pinyin("Tom张") == ("tomzhang", "tomz")
    assert name_pinyin("") == ("", "")


def test_surname_table_is_plain_data() -> None:
    assert all(isinstance(v, tuple) and len(v) == len(k) for k, v in SURNAME_READINGS.items())


def test_search_key() -> None:
    assert search_key(" Zhang Xiao\u3000Ming ") == "zhangxiaoming"
    assert search_key("ＺＸＭ") == "zxm"
    assert search_key("张 晓明") == "张晓明"
