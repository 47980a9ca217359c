"""Agreement and household pages (R1.4, R1.5): permission matrix and the flows they serve."""

from datetime import date

import pytest
from django.urls import reverse

from shouhu.core.models import Code
from shouhu.registry.models import Agreement, HouseholdPlanItem
from shouhu.registry.services import guardian_set

pytestmark = pytest.mark.django_db


def _urls(child):
    return {
        "agreement": reverse("web:agreement_add", args=[child.pk]),
        "household": reverse("web:household", args=[child.pk]),
    }


# Who may open the agreement and household pages is the generated matrix (test_matrix.py).


def test_agreement_flow_refuses_then_records(client, users, make_child):
    child = make_child()
    client.force_login(users["vw"])
    resp = Code.objects.filter(list="agreement_responsibility").values_list("code", flat=True)[0]
    neg = Code.objects.filter(list="agreement_negative").values_list("code", flat=True)[0]
    post = {
        "principals": "张大山、李小红",
        "signed_on": "2026-02-01",
        "valid_from": "2026-02-01",
        "valid_to": "2027-01-31",
        "responsibilities": [resp],
        "negatives": [neg],
    }
    page = client.post(reverse("web:agreement_add", args=[child.pk]), post)
    assert page.status_code == 200 and "请先登记受委托监护人" in page.content.decode()
    assert Agreement.objects.count() == 0
    guardian_set(
        actor=users["vw"],
        child=child,
        role="entrusted",
        data=dict(
            name="王奶奶",
            relationship="62",
            birth_date=date(1960, 1, 1),
            full_civil_capacity=True,
            no_violence_history=True,
            no_addiction=True,
            no_prior_neglect=True,
        ),
    )
    done = client.post(reverse("web:agreement_add", args=[child.pk]), post)
    assert done.status_code == 302
    assert Agreement.objects.get(child=child).responsibilities == [resp]
    detail = client.get(reverse("web:child_detail", args=[child.pk])).content.decode()
    assert "委托监护协议" in detail


def test_household_plan_flow(client, users, make_child):
    child = make_child()
    client.force_login(users["vw"])
    url = reverse("web:household", args=[child.pk])
    assert "尚未归入家庭户" in client.get(url).content.decode()
    client.post(
        reverse("web:household_save", args=[child.pk]), {"head_name": "张大山", "address": "梨山村3组"}
    )
    client.post(reverse("web:member_add", args=[child.pk]), {"name": "王奶奶", "relationship": "62"})
    missing = client.post(reverse("web:plan_add", args=[child.pk]), {"measure": "", "owner": ""}, follow=True)
    assert HouseholdPlanItem.objects.count() == 0 and "帮扶措施" in missing.content.decode()
    client.post(reverse("web:plan_add", args=[child.pk]), {"measure": "申请低保", "owner": "巴山镇民政办"})
    item = HouseholdPlanItem.objects.get()
    client.post(reverse("web:plan_done", args=[child.pk, item.pk]))
    item.refresh_from_db()
    assert item.done_on is not None
    page = client.get(url).content.decode()
    assert "张大山" in page and "王奶奶" in page and "申请低保" in page and "已完成" in page


def test_read_only_roles_cannot_post(client, users, make_child):
    child = make_child()
    client.force_login(users["edu"])  # sees the child, holds no edit right: refused, nothing written
    response = client.post(reverse("web:household_save", args=[child.pk]), {"head_name": "x"})
    assert response.status_code == 403
