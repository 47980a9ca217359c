"""Demo data for the services module (issue 17): the women's federation's 四点半课堂 in three villages of
巴山镇 with its volunteer's sessions, the 阳光 social-work centre serving both featured townships, and a
few needs. Idempotent: a second run adds nothing. Written through the services, as the county user."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from shouhu.core.models import Organisation, Region, User
from shouhu.registry.models import Child
from shouhu.services import activities, services
from shouhu.services.models import Enrolment, Provider, ProviderStatus

BASHAN, LONGTIAN = "500229102000", "500229201000"


@transaction.atomic
def seed_services() -> None:
    actor = User.objects.filter(username="county").first()
    if actor is None or Provider.objects.exists():
        return
    bashan = list(Region.objects.filter(parent_id=BASHAN).order_by("code"))
    both = bashan + list(Region.objects.filter(parent_id=LONGTIAN).order_by("code"))
    if not bashan:
        return
    women = services.provider_register(
        actor=actor,
        data={
            "organisation": Organisation.objects.get(name="县妇联").pk,
            "category": "womens_federation",
            "villages": [v.code for v in bashan[:3]],
            "service_types": ["homework_help", "family_education", "day_care"],
            "capacity": 60,
            "hotline": "12338",
            "contact": "张主席",
        },
    )
    social = services.provider_register(
        actor=actor,
        data={
            "organisation": Organisation.objects.get(name="城口县阳光社会工作服务中心").pk,
            "category": "social_work",
            "villages": [v.code for v in both],
            "service_types": ["counselling", "guardianship_guidance", "family_education", "self_protection"],
            "capacity": 40,
            "contact": "陈社工",
        },
    )
    for p in (women, social):
        services.provider_decide(actor=actor, provider=p, status=ProviderStatus.APPROVED)
    programmes = [
        services.programme_create(
            actor=actor,
            provider=women,
            data={
                "name": "四点半课堂",
                "service_type": "homework_help",
                "village": v.code,
                "key_times": ["after_school", "vacation"],
                "venue_kind": "children_home",
                "venue": f"{v.name}儿童之家",
                "schedule": "周一至周五 16:30–18:30",
                "capacity": 30,
            },
        )
        for v in bashan[:3]
    ]
    first = programmes[0]
    kids = list(Child.objects.filter(village_id=first.village_id).order_by("-lb_status", "name_pinyin")[:20])
    for c in kids:
        Enrolment.objects.get_or_create(programme=first, child=c, defaults={"created_by": actor})
    today = timezone.localdate()
    volunteer = User.objects.filter(username="volunteer").first()
    for days in (1, 0):
        at = timezone.make_aware(datetime.combine(today - timedelta(days=days), time(16, 30)))
        activities.session_create(
            actor=actor,
            programme=first,
            data={
                "starts_at": at,
                "hours": "2",
                "topic": "作业辅导",
                "volunteer": volunteer.username if volunteer else "",
            },
        )
    for c, kind in zip(kids[:2], ("homework_help", "counselling"), strict=False):
        need = services.need_record(
            actor=actor, child=c, data={"type": kind, "source": "visit", "note": "走访发现"}
        )
        if kind == "homework_help":
            services.need_transition(actor=actor, need=need, to="offered", provider=women.pk)
