"""Deterministic generator of realistic children for the Chengkou demo county (seed_demo, benchmarks).

The shares follow the national census of rural left-behind children (民政部 2016/2018): about 93 % cared
for by grandparents, about 4 % unattended, the rest by relatives or friends or a parent at home who has no
guardianship capacity; ages 0–5 / 6–13 / 14–15 ≈ 22 / 67 / 11 %. About 85 % of the generated children are
left-behind (of those, about 8 % one parent away and the other without guardianship capacity); the others
have one parent away and the other at home, so the ledger shows both.

Output rows have the shape that `validation.validate_child` returns (village a Region instance, the ID
number normalised or None, parents a list of dicts), plus a "school" key (an Organisation or None) for
kindergarten and primary pupils, which `bulk.bulk_register` stores. Same seed, villages and `today` →
same rows; the first k rows do not depend on n (prefix-stable), so a larger run extends a smaller one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

from shouhu.core.demo import short_name
from shouhu.core.identity import compose_id_number
from shouhu.core.models import Organisation, OrganisationKind, Region
from shouhu.registry.rules import anniversary, full_years

ADDRESS_CODE = "500229"  # 城口县
FIRST_CHILD = ("张晓明", "500229102201")  # the demo search "zxm" (巴山镇, first village)

# Common surnames of Chongqing and Sichuan, weighted roughly by frequency; 单 曾 解 仇 are polyphonic
# surnames (shan, zeng, xie, qiu) so that pinyin search can be tried on them.
SURNAMES: list[tuple[str, int]] = [
    ("王", 70),
    ("李", 70),
    ("张", 65),
    ("刘", 55),
    ("陈", 50),
    ("杨", 40),
    ("黄", 25),
    ("赵", 22),
    ("周", 22),
    ("吴", 20),
    ("徐", 18),
    ("孙", 15),
    ("胡", 18),
    ("朱", 14),
    ("高", 12),
    ("林", 10),
    ("何", 16),
    ("郭", 12),
    ("马", 10),
    ("罗", 16),
    ("谭", 14),
    ("向", 14),
    ("冉", 10),
    ("邓", 14),
    ("蒋", 10),
    ("彭", 12),
    ("余", 12),
    ("单", 2),
    ("曾", 4),
    ("解", 2),
    ("仇", 2),
]
BOY_CHARS = list("浩宇轩杰俊涛鑫磊鹏博文明晓子梓睿泽辰航然豪瑞凯伟强勇军斌志坤川林峰朗天翔")
GIRL_CHARS = list("欣怡雨佳梦思雪婷琪涵萱静丽悦瑶诗语芳娜玲晓子梓若可心雅馨月颖慧婉琳")
MAN_CHARS = list("建国华平军明强勇伟斌刚红兵海波林涛洪春云东超")
WOMAN_CHARS = list("秀英玉兰桂芳丽红梅霞燕琴丹娟群莉萍春艳敏")

PROVINCES: list[tuple[str, int, list[str]]] = [
    ("50", 35, ["重庆主城", "渝北区", "万州区", "江北区", "九龙坡区", "开州区"]),
    ("44", 25, ["东莞", "深圳", "广州", "佛山", "中山"]),
    ("33", 12, ["宁波", "温州", "杭州", "义乌", "台州"]),
    ("32", 8, ["苏州", "无锡", "南京", "昆山", "常州"]),
    ("35", 8, ["泉州", "厦门", "福州", "晋江"]),
    ("51", 7, ["成都", "达州", "绵阳", "宜宾"]),
    ("31", 2, ["上海"]),
    ("11", 1, ["北京"]),
    ("42", 1, ["武汉"]),
    ("61", 1, ["西安"]),
]
MOBILE_PREFIXES = [
    "138",
    "139",
    "135",
    "136",
    "137",
    "150",
    "151",
    "152",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "180",
    "189",
    "177",
    "199",
    "166",
    "173",
    "181",
]
ILLNESSES = ["先天性心脏病", "哮喘", "癫痫", "肾病综合征", "地中海贫血", "白血病", "1型糖尿病"]
INCAPACITY = [("serious_illness", 50), ("serious_disability", 25), ("mental_illness", 15), ("imprisoned", 10)]

# Shares (probabilities) — documented in the module docstring and checked by the tests.
P_MALE = 0.52
P_LEFT_BEHIND = 0.85
P_ONE_AWAY_INCAPABLE = 0.08  # of left-behind children
CARE_LEFT_BEHIND = [
    ("grandparents", 93.0),
    ("unattended", 4.0),
    ("relatives_friends", 1.8),
    ("incapable_parent", 1.2),
]
AGE_BANDS = [((0, 5), 22), ((6, 13), 67), ((14, 15), 11)]
RATINGS = [("good", 40), ("adequate", 45), ("poor", 15)]
P_DISABLED, P_ILL, P_NO_HUKOU, P_DIBAO, P_DROPPED_OUT = 0.02, 0.03, 0.005, 0.08, 0.005
P_PARENT_PHONE, P_PARENT_ID = 0.80, 0.70


T = TypeVar("T")


def _pick(rng: random.Random, weighted: Sequence[tuple[T, float]]) -> T:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


class _Generator:
    def __init__(self, seed: int, villages: list[Region], today: date):
        if not villages:
            raise ValueError("no villages to place children in")
        self.rng = random.Random(seed)
        self.today = today
        self.villages = sorted(villages, key=lambda v: v.code)
        # Villages differ in size: a fixed weight per village drawn from the seed.
        self.weights = [self.rng.uniform(0.4, 1.6) for _ in self.villages]
        self.used_ids: set[str] = set()
        township_codes = {v.parent_id for v in self.villages}
        townships = {t.code: t for t in Region.objects.filter(code__in=township_codes)}
        orgs = {
            o.name: o
            for o in Organisation.objects.filter(
                kind__in=[OrganisationKind.SCHOOL, OrganisationKind.KINDERGARTEN]
            )
        }
        self.township = {v.code: townships.get(v.parent_id) if v.parent_id else None for v in self.villages}
        self.schools: dict[tuple[str, str], Organisation | None] = {}
        for v in self.villages:
            town = self.township[v.code]
            short = short_name(town) if town else ""
            self.schools[(v.code, "primary")] = orgs.get(f"{short}中心小学")
            self.schools[(v.code, "kindergarten")] = orgs.get(f"{short}中心幼儿园")

    # --- people -----------------------------------------------------------------------------------

    def given(self, chars: list[str]) -> str:
        n = 2 if self.rng.random() < 0.75 else 1
        return "".join(self.rng.choice(chars) for _ in range(n))

    def surname(self) -> str:
        return _pick(self.rng, SURNAMES)

    def birth_for_age(self, age: int) -> date:
        """A birth date whose 周岁 on `today` is exactly `age` (full years from the day after a birthday)."""
        latest = (
            anniversary(self.today, -age) - timedelta(days=1) if age > 0 else self.today - timedelta(days=1)
        )
        earliest = anniversary(self.today, -(age + 1))
        span = max((latest - earliest).days, 0)
        while True:
            birth = earliest + timedelta(days=self.rng.randint(0, span))
            if full_years(birth, self.today) == age and birth < self.today:
                return birth

    def id_number(self, birth: date, male: bool) -> str:
        for _ in range(2000):
            seq = self.rng.randrange(0, 1000, 2) + (1 if male else 0)
            number = compose_id_number(ADDRESS_CODE, birth, seq)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number
        raise RuntimeError(f"no free ID sequence left for {birth}")

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def past_date(self, earliest: date, latest: date) -> date:
        latest = min(latest, self.today - timedelta(days=1))
        earliest = min(earliest, latest)
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def parent(
        self,
        relation: str,
        surname: str,
        child_birth: date,
        *,
        away: bool,
        capable: bool = True,
        reason: str = "",
    ) -> dict[str, Any]:
        male = relation == "father"
        name = surname + self.given(MAN_CHARS if male else WOMAN_CHARS)
        birth = anniversary(child_birth, -self.rng.randint(20, 34)) - timedelta(days=self.rng.randint(0, 364))
        p: dict[str, Any] = {
            "relation": relation,
            "name": name,
            "birth_date": birth,
            "id_number": self.id_number(birth, male) if self.rng.random() < P_PARENT_ID else None,
            "phone": self.phone() if self.rng.random() < P_PARENT_PHONE else "",
            "away_for_work": away,
            "away_since": None,
            "work_province": "",
            "work_city": "",
            "abroad": False,
            "work_country": "",
            "guardianship_capacity": capable,
            "incapacity_reason": "" if capable else reason,
            "deceased": False,
        }
        if away:
            province, _, cities = _pick(self.rng, [((c, w, cs), w) for c, w, cs in PROVINCES])
            # Most parents left when the child was small; some were already away before the birth.
            p.update(
                away_since=self.past_date(
                    child_birth - timedelta(days=3 * 365), child_birth + timedelta(days=6 * 365)
                ),
                work_province=province,
                work_city=self.rng.choice(cities),
            )
        return p

    # --- a child ----------------------------------------------------------------------------------

    def child(self, index: int) -> dict[str, Any]:
        rng = self.rng
        first = index == 0
        if first:
            village = next((v for v in self.villages if v.code == FIRST_CHILD[1]), self.villages[0])
        else:
            village = rng.choices(self.villages, weights=self.weights)[0]
        male = True if first else rng.random() < P_MALE
        sex = "1" if male else "2"
        surname = "张" if first else self.surname()
        name = FIRST_CHILD[0] if first else surname + self.given(BOY_CHARS if male else GIRL_CHARS)
        band = (6, 13) if first else _pick(rng, AGE_BANDS)
        age = 9 if first else rng.randint(*band)
        birth = self.birth_for_age(age)
        registered = first or rng.random() >= P_NO_HUKOU
        id_number = self.id_number(birth, male) if registered else None

        left_behind = first or rng.random() < P_LEFT_BEHIND
        if left_behind:
            care = "grandparents" if first else _pick(rng, CARE_LEFT_BEHIND)
            incapable_other = care == "incapable_parent" or (
                care in ("grandparents", "relatives_friends")
                and rng.random() < (P_ONE_AWAY_INCAPABLE - 0.012) / 0.948
            )
        else:
            care, incapable_other = "parent", False
        father_away = True
        mother_away = True
        if incapable_other or not left_behind:
            # One parent at home: more often the mother.
            if rng.random() < 0.7:
                mother_away = False
            else:
                father_away = False
        reason = _pick(rng, INCAPACITY) if incapable_other else ""
        parents = [
            self.parent(
                "father",
                surname,
                birth,
                away=father_away,
                capable=father_away or not incapable_other,
                reason=reason,
            ),
            self.parent(
                "mother",
                self.surname(),
                birth,
                away=mother_away,
                capable=mother_away or not incapable_other,
                reason=reason,
            ),
        ]

        health, disability_type, disability_grade, illness = "healthy", "", "", ""
        roll = rng.random()
        if not first and roll < P_DISABLED:
            health, disability_type, disability_grade = (
                "disabled",
                str(rng.randint(1, 7)),
                str(rng.randint(1, 4)),
            )
        elif not first and roll < P_DISABLED + P_ILL:
            health, illness = "ill", rng.choice(ILLNESSES)

        schooling, boarding = self.schooling(age, first)
        school = (
            self.schools.get((village.code, schooling)) if schooling in ("primary", "kindergarten") else None
        )
        dibao = not first and rng.random() < P_DIBAO
        rating = (
            "adequate"
            if first
            else ("poor" if care == "unattended" and rng.random() < 0.6 else _pick(rng, RATINGS))
        )
        town = self.township[village.code]
        town_name = town.name if town else ""
        ethnicity = _pick(rng, [("01", 97), ("15", 2), ("06", 1)])
        return {
            "name": name,
            "sex": sex,
            "ethnicity": ethnicity,
            "birth_date": birth,
            "hukou_registered": registered,
            "hukou_rural": True,
            "hukou_place": f"重庆市城口县{town_name}{village.name}",
            "id_number": id_number,
            "village": village,
            "address": f"城口县{town_name}{village.name}{rng.randint(1, 12)}组",
            "health": health,
            "disability_type": disability_type,
            "disability_grade": disability_grade,
            "illness": illness,
            "schooling": schooling,
            "boarding": boarding,
            "school": school,
            "care_arrangement": care,
            "guardianship_rating": rating,
            "moved_with_parents": False,
            "income_sources": ["wages", "farming"] + (["subsistence"] if dibao else []),
            "assistance": ["dibao"] if dibao else [],
            "distress_categories": [],
            "parents": parents,
        }

    def schooling(self, age: int, first: bool) -> tuple[str, bool]:
        rng = self.rng
        if age >= 12 and not first and rng.random() < P_DROPPED_OUT:
            return "dropped_out", False
        if age <= 2:
            return "not_in_kindergarten", False
        if age <= 5:
            return "kindergarten", False
        if age <= 11:
            return "primary", False
        if age <= 14:
            return "junior", rng.random() < 0.45
        level = _pick(rng, [("junior", 30), ("senior", 45), ("vocational", 25)])
        return level, rng.random() < (0.45 if level == "junior" else 0.8)


def generate_children(n: int, seed: int, villages: list[Region], today: date) -> list[dict[str, Any]]:
    """`n` children in `villages` (Region instances), deterministic for (seed, villages, today).

    Reads the townships and the schools (two queries); writes nothing.
    """
    gen = _Generator(seed, villages, today)
    return [gen.child(i) for i in range(n)]


def demo_villages() -> list[Region]:
    """Every village-level region of the demo county, by code."""
    from shouhu.core.demo import COUNTY

    return list(Region.objects.filter(parent__parent_id=COUNTY).order_by("code"))


def seed_children(
    *, actor: Any, n: int, seed: int, today: date, chunk: int = 10000, progress: Any = None
) -> int:
    """Bring the number of children on file up to `n` with generated ones (bulk_register, `chunk` rows per
    transaction). Generated children already on file (same ID number; or same name, birth date and village
    without one) are skipped, so a second run adds nothing. Returns the number created."""
    from shouhu.core.crypto import blind_index
    from shouhu.registry.bulk import bulk_register
    from shouhu.registry.models import Child

    missing = n - Child.objects.count()
    if missing <= 0:
        return 0
    rows = generate_children(n, seed, demo_villages(), today)
    indexes = [blind_index("id", r["id_number"]) if r["id_number"] else None for r in rows]
    on_file: set[str] = set()
    keys = [i for i in indexes if i]
    for start in range(0, len(keys), 900):
        found = Child.objects.filter(id_number_index__in=keys[start : start + 900]).values_list(
            "id_number_index", flat=True
        )
        on_file.update(i for i in found if i is not None)  # matched a key, so never None; narrows the type
    no_id = {
        (name, birth, village)
        for name, birth, village in Child.objects.filter(id_number_index__isnull=True).values_list(
            "name", "birth_date", "village_id"
        )
    }
    todo = [
        r
        for r, i in zip(rows, indexes, strict=True)
        if (i not in on_file if i else (r["name"], r["birth_date"], r["village"].code) not in no_id)
    ][:missing]
    created = 0
    for start in range(0, len(todo), chunk):
        created += len(bulk_register(actor=actor, rows=todo[start : start + chunk], today=today))
        if progress is not None:
            progress(created, len(todo))
    return created
