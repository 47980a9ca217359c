"""Completeness and consistency of the ledger per village and township (R1.10 底数清).

Per village, over the files the user may see: how many children, how many with a required field
missing (current address, guardianship rating, village-committee contact, either parent's record),
how many stored ID numbers that no longer pass validation (legacy data), how many without a carer or
entrusted guardian on file, how many without any visit (shouhu.care), and `census`: the entries of the schooling module's two
census work lists (R4.1, R1.10: roster pupils marked left-behind missing from the ledger, and ledger
children of school age on no roster).

Set-based: one aggregate query per figure family, plus one pass over the stored ID numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from shouhu.core.access import prefix_q, restrict
from shouhu.core.identity import IdentityError, validate_id_number
from shouhu.core.models import Region, User
from shouhu.registry.models import Child, Guardian, Parent


@dataclass
class Figures:
    code: str
    name: str
    children: int = 0
    missing_fields: int = 0
    invalid_ids: int = 0
    no_guardian: int = 0
    no_visit: int | None = 0
    census: int | None = None  # gaps between the school rosters and the ledger (R4.1, R1.10)
    villages: list[Figures] = field(default_factory=list)

    @property
    def complete(self) -> int:
        return self.children - self.missing_fields

    @property
    def percent(self) -> float:
        return 100.0 if not self.children else round(100.0 * self.complete / self.children, 1)

    def add(self, other: Figures) -> None:
        self.children += other.children
        self.missing_fields += other.missing_fields
        self.invalid_ids += other.invalid_ids
        self.no_guardian += other.no_guardian
        if self.census is not None and other.census is not None:
            self.census += other.census
        else:
            self.census = None
        if self.no_visit is not None and other.no_visit is not None:
            self.no_visit += other.no_visit
        else:
            self.no_visit = None


def _visit_model() -> Any:
    try:
        from shouhu.care.models import Visit
    except ImportError:  # pragma: no cover - care is installed in this project
        return None
    return Visit


def _visit_figures(qs: QuerySet[Child]) -> dict[str, dict[str, int]]:
    from django.utils import timezone

    from shouhu.care.selectors import visit_figures

    return visit_figures(qs, timezone.now())


def figures(user: User, *, region: Region | None = None) -> list[Figures]:
    """Townships (each with its villages) in the user's view, with their figures."""
    qs: QuerySet[Child] = restrict(Child.objects.filter(state="active"), user, "ledger.import")
    if region is not None:
        qs = qs.filter(prefix_q("village__pk", (region.prefix,)))
    has_father = Exists(Parent.objects.filter(child=OuterRef("pk"), relation="father"))
    has_mother = Exists(Parent.objects.filter(child=OuterRef("pk"), relation="mother"))
    has_guardian = Exists(Guardian.objects.filter(child=OuterRef("pk")))
    aggs: dict[str, Any] = {
        "children": Count("pk"),
        "missing_fields": Count(
            "pk",
            filter=Q(address="")
            | Q(guardianship_rating="")
            | Q(village_contact_name="")
            | Q(hf=False)
            | Q(hm=False),
        ),
        "no_guardian": Count("pk", filter=Q(hg=False) & ~Q(care_arrangement="parent")),
    }
    annotated = qs.order_by().annotate(hf=has_father, hm=has_mother, hg=has_guardian)
    visit = _visit_model()
    # Never visited: the care module's one count (`care.selectors.visit_figures`), which the villages
    # page's coverage also reads — the two pages count the same children the same way (issue 12 part 6).
    visits = _visit_figures(qs) if visit is not None else {}
    # The plugin types `.values()` as a TypedDict of the named fields only; the `**aggs` keys are dynamic.
    rows: list[dict[str, Any]] = [dict(r) for r in annotated.values("village_id").annotate(**aggs)]
    invalid: dict[str, int] = defaultdict(int)
    for village_id, number, birth, sex in (
        qs.order_by()
        .exclude(id_number__isnull=True)
        .values_list("village_id", "id_number", "birth_date", "sex")
        .iterator(chunk_size=2000)
    ):
        if number is None:  # excluded above; narrows the type
            continue
        try:
            validate_id_number(number, birth_date=birth, sex=sex)
        except IdentityError:
            invalid[village_id] += 1
    regions = {
        r.code: r
        for r in Region.objects.filter(code__in=[r["village_id"] for r in rows]).select_related("parent")
    }
    from shouhu.schooling.selectors import census_counts  # the school census (R4.1), a sibling module

    census = census_counts([r["village_id"] for r in rows], timezone.localdate())
    towns: dict[str, Figures] = {}
    for r in sorted(rows, key=lambda r: r["village_id"]):
        v = regions[r["village_id"]]
        f = Figures(
            code=v.code,
            name=v.name,
            children=r["children"],
            missing_fields=r["missing_fields"],
            invalid_ids=invalid.get(v.code, 0),
            no_guardian=r["no_guardian"],
            no_visit=visits.get(v.code, {}).get("never_visited", 0) if visit is not None else None,
            census=census.get(v.code, 0),
        )
        t = v.parent
        assert t is not None
        town = towns.setdefault(
            t.code, Figures(code=t.code, name=t.name, no_visit=0 if visit is not None else None, census=0)
        )
        town.add(f)
        town.villages.append(f)
    return list(towns.values())
