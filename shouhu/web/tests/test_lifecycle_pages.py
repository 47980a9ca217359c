"""The file's lifecycle pages (R1.11; issue 12 part 1): archive with a reason, reactivate with a note,
transfer, and the duplicates page whose merge keeps the history. Who may open them: test_matrix.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from shouhu.conftest import BASHAN_VILLAGE, BASHAN_VILLAGE_2
from shouhu.registry import lifecycle
from shouhu.registry.models import Child

pytestmark = pytest.mark.django_db


def test_archive_reactivate_and_transfer_from_the_file_page(
    client: Any, users: dict[str, Any], make_child: Any
) -> None:
    child = make_child()
    client.force_login(users["vw"])
    page = client.get(reverse("web:child_detail", args=[child.pk])).content.decode()
    assert (
        "档案管理" in page
        and "年龄超出" in page
        and "重复档案" not in page.split('id="lifecycle"')[1].split("</select>")[0]
    )
    r = client.post(reverse("web:child_archive", args=[child.pk]), {"reason": "other"}, follow=True)
    assert "请填写说明" in r.content.decode()
    client.post(reverse("web:child_archive", args=[child.pk]), {"reason": "moved_away", "note": "迁往广东"})
    child.refresh_from_db()
    assert child.state == "archived" and child.archived_reason == "moved_away"
    page = client.get(reverse("web:child_detail", args=[child.pk])).content.decode()
    assert (
        "本档案已于" in page and "恢复档案" in page and reverse("web:child_edit", args=[child.pk]) not in page
    )
    listing = client.get(reverse("web:child_list")).content.decode()
    assert child.name not in listing
    client.post(reverse("web:child_reactivate", args=[child.pk]), {"note": "已返回本村"})
    child.refresh_from_db()
    assert child.state == "active"
    client.force_login(users["sup"])
    client.post(reverse("web:child_transfer", args=[child.pk]), {"village": BASHAN_VILLAGE_2, "note": "搬迁"})
    child.refresh_from_db()
    assert child.village_id == BASHAN_VILLAGE_2
    client.force_login(users["vw"])
    assert client.get(reverse("web:child_detail", args=[child.pk])).status_code == 404


def test_duplicates_page_lists_pairs_and_merges(client: Any, users: dict[str, Any], make_child: Any) -> None:
    keep = make_child(name="王小丽", sex="2", birth_date=date(2016, 3, 3))
    dup = make_child(
        actor=users["vw_same_town"],
        name="王晓丽",
        sex="2",
        birth_date=date(2016, 3, 3),
        village=BASHAN_VILLAGE_2,
        id_number=None,
        hukou_registered=False,
    )
    lifecycle.child_transfer(actor=users["sup"], child_id=dup.pk, village=BASHAN_VILLAGE)
    client.force_login(users["vw"])
    page = client.get(reverse("web:child_duplicates")).content.decode()
    assert "王小丽" in page and "王晓丽" in page
    r = client.post(
        reverse("web:child_merge", args=[keep.pk]), {"duplicate": str(dup.pk), "note": "同一儿童"}
    )
    assert r.status_code == 302 and r["Location"] == reverse("web:child_detail", args=[keep.pk])
    dup.refresh_from_db()
    assert dup.state == "archived" and dup.merged_into_id == keep.pk
    assert "没有发现疑似重复的档案" in client.get(reverse("web:child_duplicates")).content.decode()
    assert Child.objects.filter(state="active", name__in=["王小丽", "王晓丽"]).count() == 1
    timeline = client.get(reverse("web:child_detail", args=[keep.pk])).content.decode()
    assert "合并重复档案" in timeline
