"""The school (R4.1), grandparents (R1.1), carer and entrusted guardian (R1.3) as ledger columns (R1.9,
issue 3): read in the official two-level layout and Shouhu's own, checked by the registry's rules, written
set-based for new children and through the services for children on file, exported and imported back
unchanged; a workbook without them leaves a child's family as it is."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from shouhu.core.crypto import blind_index
from shouhu.core.models import Event, Organisation, Region
from shouhu.ledger import parse
from shouhu.ledger.columns import COLUMNS, LOOKUP, MEMBER_ALIASES, member_of_group, norm_header
from shouhu.ledger.exporter import export_ledger
from shouhu.ledger.importer import Schools, import_ledger
from shouhu.ledger.reader import _match, find_header
from shouhu.ledger.tests.helpers import base_row, id_for, official
from shouhu.registry.models import Child, Grandparent, Guardian
from shouhu.registry.services import grandparents_set, guardian_set

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 28)
GRANDMA_BIRTH = date(1958, 3, 3)
GRANDMA_ID = id_for(GRANDMA_BIRTH, male=False)
UNCLE_ID = id_for(date(1975, 8, 8))
NEW_MEMBER_COLUMNS = [c.key for c in COLUMNS if c.member and not c.parent]  # grandparents, guardians


def family_row(**over: Any) -> dict[str, Any]:
    """A row with every new column filled as a county ledger writes it."""
    family: dict[str, Any] = dict(
        school="中心小学",  # without the township: the child's own township's school
        paternal_grandfather_name="王老汉",
        paternal_grandfather_birth_date=date(1950, 1, 2),
        paternal_grandfather_deceased="否",
        paternal_grandmother_name="张 秀英",  # a stray space, as typed
        paternal_grandmother_birth_date="1958.3.3",
        maternal_grandfather_deceased="是",  # deceased, name unknown
        carer_name="张秀英",
        carer_relationship="祖母",
        carer_phone="136 0013 6000",
        carer_id_number=GRANDMA_ID.lower(),
        carer_address="巴山镇一组",
        entrusted_name="王大伯",
        entrusted_relationship="81",  # the GB/T 4761 code
        entrusted_phone="023-59221234",
        entrusted_id_number=UNCLE_ID,
        entrusted_address="巴山镇二组",
    )
    return base_row(**{**family, **over})


def counts() -> tuple[int, int, int, int]:
    return (
        Child.objects.count(),
        Grandparent.objects.count(),
        Guardian.objects.count(),
        Event.objects.count(),
    )


def errors_by_column(result: Any) -> dict[str, str]:
    return {e["column"]: e["message"] for e in result.errors}


def verbs(child: Child) -> list[str]:
    return list(Event.objects.filter(child_id=str(child.pk)).order_by("seq").values_list("verb", flat=True))


# --- import ------------------------------------------------------------------------------------------


def test_official_layout_imports_school_grandparents_carer_and_entrusted(users: dict[str, Any]) -> None:
    """R1.1, R1.3, R1.9: the two-level headers 祖父/姓名 … and 监护情况/实际照料人姓名 … are read; the
    family is written with one event per kind, as the services write it."""
    rows = [
        family_row(name="王一"),
        base_row(name="王二", birth=date(2016, 1, 1), school="巴山镇中心小学"),  # township in full
        base_row(name="王三", birth=date(2017, 1, 1), school="城口中学"),  # a county school
    ]
    data, _first = official(rows)
    result = import_ledger(data, "巴山镇台账.xlsx", actor=users["sup"], today=TODAY)
    assert (result.created, result.invalid) == (3, 0), result.errors
    assert result.ignored_columns == ["包村干部"]
    kids = {c.name: c for c in Child.objects.filter(name__in=["王一", "王二", "王三"])}
    bashan = Organisation.objects.get(name="巴山中心小学")
    assert kids["王一"].school == bashan and kids["王二"].school == bashan
    assert kids["王三"].school == Organisation.objects.get(name="城口中学")

    grandparents = {(g.side, g.relation): g for g in kids["王一"].grandparents.all()}
    assert set(grandparents) == {
        ("paternal", "grandfather"),
        ("paternal", "grandmother"),
        ("maternal", "grandfather"),
    }
    assert grandparents[("paternal", "grandfather")].birth_date == date(1950, 1, 2)
    assert grandparents[("paternal", "grandmother")].name == "张秀英"
    gone = grandparents[("maternal", "grandfather")]
    assert gone.deceased is True and gone.name == ""

    carer = Guardian.objects.get(child=kids["王一"], role="carer")
    assert (carer.name, carer.relationship, carer.address) == ("张秀英", "62", "巴山镇一组")
    assert carer.phone == "13600136000" and carer.phone_index == blind_index("phone", "13600136000")
    assert carer.id_number == GRANDMA_ID and carer.id_number_index == blind_index("id", GRANDMA_ID)
    entrusted = Guardian.objects.get(child=kids["王一"], role="entrusted")
    assert (entrusted.relationship, entrusted.phone, entrusted.id_number) == ("81", "02359221234", UNCLE_ID)

    # One write, one event: the file's creation records its family (R11.2).
    assert "guardian.set" not in verbs(kids["王一"]) and "grandparents.set" not in verbs(kids["王一"])
    assert not Guardian.objects.filter(child__in=[kids["王二"], kids["王三"]]).exists()
    created = Event.objects.get(child_id=str(kids["王一"].pk), verb="child.created").after or {}
    assert [(g["side"], g["relation"]) for g in created["grandparents"]] == [
        ("maternal", "grandfather"),
        ("paternal", "grandfather"),
        ("paternal", "grandmother"),
    ]
    assert created["carer"]["name"] == "张秀英" and created["entrusted"]["relationship"] == "81"
    assert created["carer"]["phone"] == "136****6000" and GRANDMA_ID not in str(created)  # masked (R11.3)
    other = Event.objects.get(child_id=str(kids["王二"].pk), verb="child.created").after or {}
    assert not {"grandparents", "carer", "entrusted"} & set(other)


@pytest.mark.parametrize(
    ("over", "column", "words"),
    [
        ({"school": "巴山实验小学"}, "就读学校", ("找不到学校", "全称", "巴山")),
        ({"carer_relationship": "邻居"}, "实际照料人与儿童关系", ("邻居", "无法识别", "GB/T 4761")),
        ({"carer_phone": "5922123"}, "实际照料人联系电话", ("区号",)),
        ({"entrusted_id_number": UNCLE_ID[:-1] + "0"}, "受委托监护人公民身份号码", ("校验位",)),
        ({"entrusted_id_number": 5.00229197508081e17}, "受委托监护人公民身份号码", ("Excel", "文本")),
        ({"carer_name": ""}, "实际照料人姓名", ("请填写姓名",)),
        ({"carer_relationship": ""}, "实际照料人与儿童关系", ("关系",)),
        ({"paternal_grandfather_name": ""}, "祖父姓名", ("出生日期", "姓名")),
        ({"paternal_grandmother_birth_date": "2030-1-1"}, "祖母出生日期", ("不能晚于今天",)),
    ],
)
def test_bad_values_are_row_errors_on_their_column_and_nothing_is_written(
    users: dict[str, Any], over: dict[str, Any], column: str, words: tuple[str, ...]
) -> None:
    """R1.9: a bad school, relationship, guardian ID or phone is an error on its own column with a
    reason in Chinese; all or nothing."""
    data, first = official([family_row(name="王一", **over), base_row(name="王二", birth=date(2016, 1, 1))])
    before = counts()
    result = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (result.invalid, result.written) == (1, False)
    assert counts() == before
    errors = errors_by_column(result)
    assert list(errors) == [column], result.errors
    assert all(w in errors[column] for w in words), errors[column]
    assert result.errors[0]["row"] == first and result.errors[0]["cell"]


def test_the_import_gives_the_same_reason_as_the_guardian_form(
    users: dict[str, Any], make_child: Any
) -> None:
    """One implementation (registry.family_validation): the reason in the error report is the one
    `guardian_set` gives for the same value."""
    with pytest.raises(ValidationError) as exc:
        guardian_set(
            actor=users["vw"],
            child=make_child(),
            role="carer",
            data={"name": "张", "relationship": "62", "phone": "5922123"},
        )
    data, _first = official([family_row(name="王一", carer_phone="5922123")])
    result = import_ledger(data, "t.xlsx", actor=users["sup"], dry_run=True, today=TODAY)
    assert errors_by_column(result) == {"实际照料人联系电话": exc.value.message_dict["phone"][0]}


def test_same_workbook_twice_changes_nothing(users: dict[str, Any]) -> None:
    """R1.9: the second import reports every row unchanged and writes nothing, family included."""
    data, _first = official([family_row(name="王一"), family_row(name="王二", birth=date(2016, 1, 1))])
    first = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (first.created, first.invalid) == (2, 0), first.errors
    before = counts()
    family = (
        sorted(Guardian.objects.values_list("pk", "phone", "id_number")),
        sorted(Grandparent.objects.values_list("pk", "name")),
    )
    second = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (second.unchanged, second.changed, second.created, second.updated) == (2, 0, 0, 0)
    assert counts() == before
    assert (
        sorted(Guardian.objects.values_list("pk", "phone", "id_number")),
        sorted(Grandparent.objects.values_list("pk", "name")),
    ) == family


def test_a_changed_carer_phone_updates_the_guardian_through_the_service(users: dict[str, Any]) -> None:
    """R1.3, R1.9: only the guardian changes (guardian_set, its event); the child's file is not rewritten."""
    data, _first = official([family_row(name="王一")])
    import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    child = Child.objects.get(name="王一")
    data, _first = official([family_row(name="王一", carer_phone="13900139000")])
    preview = import_ledger(data, "t.xlsx", actor=users["sup"], dry_run=True, today=TODAY)
    assert (preview.changed, preview.written) == (1, False)
    result = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (result.updated, result.created, result.unchanged) == (1, 0, 0)
    carer = Guardian.objects.get(child=child, role="carer")
    assert carer.phone == "13900139000" and carer.phone_index == blind_index("phone", "13900139000")
    assert carer.id_number == GRANDMA_ID  # the other fields as they were
    event = Event.objects.filter(child_id=str(child.pk), verb="guardian.set").order_by("-seq").first()
    assert (
        event is not None
        and event.before == {"phone": "136****6000"}
        and event.after == {"phone": "139****9000"}
    )
    # the first import recorded the carer in child.created; this change is its own event
    assert verbs(child).count("guardian.set") == 1 and "child.updated" not in verbs(child)
    child.refresh_from_db()
    assert child.version == 1
    assert Grandparent.objects.filter(child=child).count() == 3


def test_a_changed_grandparent_and_school_go_through_the_services(users: dict[str, Any]) -> None:
    """R1.1, R1.9: a new school is a child_update (version, child.updated); the grandparents are written
    by grandparents_set as a whole, with the on-file ones the row repeats."""
    data, _first = official([family_row(name="王一")])
    import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    child = Child.objects.get(name="王一")
    data, _first = official(
        [
            family_row(
                name="王一",
                school="巴山中心幼儿园",
                paternal_grandfather_deceased="是",
                maternal_grandmother_name="李外婆",
            )
        ]
    )
    result = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (result.updated, result.invalid) == (1, 0), result.errors
    child.refresh_from_db()
    assert child.school == Organisation.objects.get(name="巴山中心幼儿园") and child.version == 2
    grandparents = {(g.side, g.relation): g for g in child.grandparents.all()}
    assert grandparents[("paternal", "grandfather")].deceased is True
    assert grandparents[("maternal", "grandmother")].name == "李外婆" and len(grandparents) == 4
    event = Event.objects.filter(child_id=str(child.pk), verb="grandparents.set").order_by("-seq").first()
    assert event is not None and len(event.before) == 3 and len(event.after) == 4
    # the first import recorded the family in child.created; only the grandparents changed since
    assert verbs(child).count("child.updated") == 1 and verbs(child).count("guardian.set") == 0


@pytest.fixture
def family_on_file(users: dict[str, Any], make_child: Any) -> Child:
    """A child whose grandparents (R1.1), carer and entrusted guardian (R1.3) were entered on the forms."""
    child = make_child(name="王有家")
    grandparents_set(
        actor=users["vw"],
        child=child,
        rows=[
            {"side": "paternal", "relation": "grandmother", "name": "王奶奶", "birth_date": GRANDMA_BIRTH},
            {"side": "maternal", "relation": "grandfather", "name": "", "deceased": True},
        ],
    )
    guardian_set(
        actor=users["vw"],
        child=child,
        role="carer",
        data={
            "name": "王奶奶",
            "relationship": "62",
            "phone": "13600136000",
            "id_number": GRANDMA_ID,
            "birth_date": GRANDMA_BIRTH,
        },
    )
    guardian_set(
        actor=users["vw"],
        child=child,
        role="entrusted",
        data={"name": "王大伯", "relationship": "81", "address": "巴山镇二组", "no_addiction": True},
    )
    return child


def _row_for(child: Child, **over: Any) -> dict[str, Any]:
    """The row of a child made by `make_child` (conftest.child_data) as its ledger has it."""
    row = base_row(
        name=child.name,
        birth=child.birth_date,
        id_number=child.id_number,
        address="巴山镇梨山村3组",
        father_name="张大山",
        mother_work_province="50",
        mother_work_city="重庆主城",
        village_contact_name=None,
    )
    row.update(over)
    return row


def test_a_workbook_without_these_columns_leaves_the_family_untouched(
    users: dict[str, Any], family_on_file: Child
) -> None:
    """R1.9: only the columns a workbook has are compared and written."""
    child = family_on_file
    family = sorted(
        Guardian.objects.filter(child=child).values_list("pk", "name", "phone", "address", "no_addiction")
    )
    grandparents = sorted(Grandparent.objects.filter(child=child).values_list("pk", "name", "deceased"))
    cols = [c for c in COLUMNS if c.key not in NEW_MEMBER_COLUMNS and c.key != "school"]
    data, _first = official([_row_for(child, guardianship_rating="差")], columns=cols)
    result = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (result.updated, result.invalid) == (1, 0), result.errors
    child.refresh_from_db()
    assert child.guardianship_rating == "poor"
    assert (
        sorted(
            Guardian.objects.filter(child=child).values_list("pk", "name", "phone", "address", "no_addiction")
        )
        == family
    )
    assert (
        sorted(Grandparent.objects.filter(child=child).values_list("pk", "name", "deceased")) == grandparents
    )
    assert verbs(child).count("guardian.set") == 2 and verbs(child).count("grandparents.set") == 1


def test_blank_member_cells_and_absent_fields_keep_what_is_on_file(
    users: dict[str, Any], family_on_file: Child
) -> None:
    """A blank member says nothing; a column the workbook lacks (here 住址, 公民身份号码) keeps its value."""
    child = family_on_file
    dropped = {"carer_address", "carer_id_number", "entrusted_address", "entrusted_id_number"}
    cols = [c for c in COLUMNS if c.key not in dropped]
    row = _row_for(
        child,
        paternal_grandmother_name="王奶奶",
        paternal_grandmother_birth_date=GRANDMA_BIRTH,
        carer_name="王奶奶",
        carer_relationship="奶奶",
        carer_phone="13600136000",
    )  # the entrusted guardian and the other grandparents left blank
    data, _first = official([row], columns=cols)
    result = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (result.unchanged, result.invalid) == (1, 0), result.errors
    # A new phone for the entrusted guardian, given with name and relationship: the address stays.
    row.update(entrusted_name="王大伯", entrusted_relationship="伯父", entrusted_phone="13700137000")
    data, _first = official([row], columns=cols)
    result = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert (result.updated, result.invalid) == (1, 0), result.errors
    entrusted = Guardian.objects.get(child=child, role="entrusted")
    assert (entrusted.phone, entrusted.address, entrusted.no_addiction) == ("13700137000", "巴山镇二组", True)
    assert Guardian.objects.get(child=child, role="carer").id_number == GRANDMA_ID


def test_an_id_number_that_contradicts_the_birth_date_on_file_is_a_row_error(
    users: dict[str, Any], family_on_file: Child
) -> None:
    """R1.3, R1.7: the import checks the guardian merged with the file (its birth date) as guardian_set
    will, so the write never fails half way."""
    child = family_on_file
    other = id_for(date(1960, 1, 1), male=False)
    data, _first = official(
        [_row_for(child, carer_name="王奶奶", carer_relationship="62", carer_id_number=other)]
    )
    result = import_ledger(data, "t.xlsx", actor=users["sup"], today=TODAY)
    assert result.invalid == 1 and not result.written
    assert "出生日期" in errors_by_column(result)["实际照料人公民身份号码"]


# --- export → import ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["official", "platform"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_changes_nothing(
    users: dict[str, Any], family_on_file: Child, make_child: Any, layout: str, fmt: str
) -> None:
    """R1.9: the new columns are exported in both layouts and an export re-imported is all unchanged."""
    child = family_on_file
    Child.objects.filter(pk=child.pk).update(school=Organisation.objects.get(name="巴山中心小学"))
    make_child(name="王无家")
    buf = io.BytesIO()
    n = export_ledger(buf, user=users["sup"], reason="核对", layout=layout, status="all", fmt=fmt, on=TODAY)
    assert n == 2
    text = _sheet_text(buf.getvalue(), fmt)
    for value in (
        "巴山中心小学",
        "王奶奶",
        "祖母",
        "伯父",
        "13600136000",
        GRANDMA_ID,
        "巴山镇二组",
        "实际照料人姓名",
    ):
        assert value in text, value
    before = counts()
    result = import_ledger(buf.getvalue(), f"export.{fmt}", actor=users["sup"], today=TODAY)
    assert (result.rows, result.unchanged, result.invalid) == (2, 2, 0), result.errors
    assert result.ignored_columns == [] and counts() == before


def _sheet_text(data: bytes, fmt: str) -> str:
    if fmt == "csv":
        return data.decode("utf-8-sig")
    import python_calamine as pc

    rows = pc.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    return "\n".join("|".join(str(c) for c in r) for r in rows)


def test_official_export_groups_the_new_columns(users: dict[str, Any], family_on_file: Child) -> None:
    """R1.9 official layout: each grandparent its own group (祖父/姓名 …), the guardians under 监护情况."""
    import python_calamine as pc

    buf = io.BytesIO()
    export_ledger(buf, user=users["sup"], reason="x", status="all", on=TODAY)
    rows = pc.CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue())).get_sheet_by_index(0).to_python()
    upper, leaf = rows[2], rows[3]
    for group in ("祖父", "祖母", "外祖父", "外祖母"):
        j = upper.index(group)
        assert leaf[j : j + 3] == ["姓名", "出生日期", "是否去世"]
    j = upper.index("监护情况")
    assert leaf[j : j + 4] == ["实际照料方式", "监护情况评估", "实际照料人姓名", "实际照料人与儿童关系"]
    assert "受委托监护人公民身份号码" in leaf and "就读学校" in leaf


def test_identifiers_of_guardians_are_masked_as_the_parents_are(
    users: dict[str, Any], family_on_file: Child, export_without_identifiers: Any
) -> None:
    """R11.3: a role that may not see identifiers gets the guardians' masked, like the parents'."""
    buf = io.BytesIO()
    export_ledger(
        buf, user=export_without_identifiers, reason="x", status="all", fmt="csv", layout="platform"
    )
    text = buf.getvalue().decode("utf-8-sig")
    assert "王奶奶" in text and "136****6000" in text
    assert GRANDMA_ID not in text and "13600136000" not in text


def test_export_reads_the_family_in_one_query(
    users: dict[str, Any], family_on_file: Child, make_child: Any
) -> None:
    """R1.9 at county scale: the family is joined in, not read per child."""

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            export_ledger(io.BytesIO(), user=users["county"], reason="x", status="all", fmt="csv")
        return len(ctx.captured_queries)

    queries()  # once for what is read once per process (policy, labels)
    few = queries()
    for i in range(4):
        child = make_child(name=f"王{i}")
        guardian_set(actor=users["vw"], child=child, role="carer", data={"name": "张", "relationship": "61"})
    assert queries() == few


# --- set-based writing, one query for the schools -----------------------------------------------------


def test_bulk_register_writes_the_family_as_the_services_do_in_constant_queries(
    users: dict[str, Any], make_child: Any
) -> None:
    """R1.1, R1.3: the grandparents and guardians bulk_register writes with a new child are the rows, and
    its `child.created` event holds the snapshots, that grandparents_set / guardian_set give; its queries
    do not grow with the number of children."""
    from shouhu.conftest import child_data
    from shouhu.registry.bulk import bulk_register
    from shouhu.registry.validation import validate_child

    family = {
        "grandparents": [
            {
                "side": "paternal",
                "relation": "grandmother",
                "name": "王奶奶",
                "birth_date": GRANDMA_BIRTH,
                "deceased": False,
            },
            {"side": "maternal", "relation": "grandfather", "name": "", "birth_date": None, "deceased": True},
        ],
        "carer": {
            "name": "王奶奶",
            "relationship": "62",
            "phone": "13600136000",
            "id_number": GRANDMA_ID,
            "address": "一组",
        },
        "entrusted": None,
    }
    by_service = make_child(name="甲")
    grandparents_set(actor=users["vw"], child=by_service, rows=family["grandparents"])
    guardian_set(actor=users["vw"], child=by_service, role="carer", data=family["carer"])

    def write(n: int, start: int) -> tuple[list[Child], int]:
        rows = [
            validate_child(
                child_data(name=f"乙{start + i}", birth_date=date(2014, 3, start + i)), today=TODAY
            )
            | family
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as ctx:
            kids = bulk_register(actor=users["vw"], rows=rows, today=TODAY)
        return kids, len(ctx.captured_queries)

    (one, *_rest), few = write(2, 1)
    _kids, many = write(12, 3)
    assert few == many

    def rows_of(child: Child) -> tuple[list[Any], list[Any]]:
        return (
            list(child.grandparents.values_list("side", "relation", "name", "birth_date", "deceased")),
            list(
                Guardian.objects.filter(child=child).values_list(
                    "role", "name", "relationship", "phone_index", "id_number_index", "address"
                )
            ),
        )

    assert rows_of(one) == rows_of(by_service)
    assert Guardian.objects.get(child=one).phone == "13600136000"
    service_events = {
        e.verb: e.after for e in Event.objects.filter(child_id=str(by_service.pk), verb__endswith=".set")
    }
    created = Event.objects.get(child_id=str(one.pk), verb="child.created").after or {}
    assert created["grandparents"] == service_events["grandparents.set"]
    assert created["carer"] == service_events["guardian.set"] and "entrusted" not in created
    assert not Event.objects.filter(child_id=str(one.pk), verb__endswith=".set").exists()


def test_bulk_register_refuses_an_invalid_guardian(users: dict[str, Any]) -> None:
    """R1.3: the same rules as guardian_set; nothing written, not even the child."""
    from shouhu.conftest import child_data
    from shouhu.registry.bulk import bulk_register
    from shouhu.registry.validation import validate_child

    row = validate_child(child_data(name="丙"), today=TODAY) | {"carer": {"name": "张", "relationship": "xx"}}
    before = counts()
    with pytest.raises(ValidationError) as exc:
        bulk_register(actor=users["vw"], rows=[row], today=TODAY)
    assert "carer.relationship" in exc.value.message_dict and counts() == before
    assert not Child.objects.filter(name="丙").exists()


def test_school_names_of_a_file_are_resolved_with_one_query(users: dict[str, Any]) -> None:
    """R1.9 at county scale: no query per row, one for all the schools of the file."""

    def queries(n: int) -> tuple[int, int]:
        rows = [family_row(name=f"王{i}", birth=date(2015, 1, i + 1)) for i in range(n)]
        data, _first = official(rows)
        with CaptureQueriesContext(connection) as ctx:
            result = import_ledger(data, "t.xlsx", actor=users["sup"], dry_run=True, today=TODAY)
        assert result.invalid == 0, result.errors
        schools = [q for q in ctx.captured_queries if "core_organisation" in q["sql"]]
        return len(ctx.captured_queries), len(schools)

    queries(1)  # once for what is read once per process (policy, code lists)
    assert queries(2) == queries(9)
    assert queries(9)[1] == 1


def test_schools_by_full_township_or_short_name() -> None:
    """R1.9, R4.1: a school by its full name, with the township in full, or without the township (the
    child's township first); an ambiguous or unknown name says how to fix it."""
    schools = Schools()
    bashan = Region.objects.get(code="500229102201")
    longtian = Region.objects.get(code="500229201201")
    org = Organisation.objects.get
    assert schools.resolve("中心小学", bashan) == org(name="巴山中心小学")
    assert schools.resolve("中心小学", longtian) == org(name="龙田中心小学")
    assert schools.resolve("龙田乡中心小学", bashan) == org(name="龙田中心小学")
    assert schools.resolve(" 巴山 中心幼儿园 ", None) == org(name="巴山中心幼儿园")
    assert schools.resolve("", bashan) is None
    with pytest.raises(parse.ParseError, match=r"多所同名学校.*全称"):
        schools.resolve("中心小学", None)
    with pytest.raises(parse.ParseError, match="巴山中心"):
        schools.resolve("巴山卫生院", bashan)  # not a school: unknown, with an example from the township
    # Every school of the county is found by its own name and by its township's names (exhaustive).
    for school in Organisation.objects.filter(kind__in=("school", "kindergarten")).select_related("region"):
        assert schools.resolve(school.name, None) == school
        if school.region.level == 2:
            village = Region.objects.filter(parent=school.region).first()
            town = school.region.name.removesuffix("镇").removesuffix("乡").removesuffix("街道")
            assert schools.resolve(school.name.removeprefix(town), village) == school, school.name


# --- headers and cells (pure) -------------------------------------------------------------------------


def test_member_headers_in_the_ways_ledgers_write_them() -> None:
    """R1.9: 爷爷/姓名, 外婆/姓名, 受委托监护人/与儿童关系, 监护人/联系电话 and the flat 奶奶姓名 are the
    members' columns; 祖父母/姓名 cannot be told apart and never becomes the child's name."""
    rows = [
        ["台账"],
        ["姓名", "性别", "出生日期", "爷爷", "", "外婆", "祖父母", "受委托监护人", "", "监护人", ""],
        ["", "", "", "姓名", "是否去世", "姓名", "姓名", "姓名", "与儿童关系", "联系电话", "实际照料方式"],
    ]
    _i, cols, _shown, ignored = find_header(rows)
    assert cols["paternal_grandfather_name"] == 3 and cols["paternal_grandfather_deceased"] == 4
    assert cols["maternal_grandmother_name"] == 5
    assert (
        cols["entrusted_name"] == 7 and cols["entrusted_relationship"] == 8 and cols["entrusted_phone"] == 9
    )
    assert cols["care_arrangement"] == 10 and cols["name"] == 0
    assert ignored == ["祖父母/姓名"]  # a couple: whose name it is cannot be told
    assert LOOKUP[norm_header("奶奶姓名")] == "paternal_grandmother_name"
    assert LOOKUP[norm_header("监护人身份证号")] == "entrusted_id_number"
    assert LOOKUP[norm_header("照料人电话")] == "carer_phone"


def _spaced(s: str, data: st.DataObject) -> str:
    """The text as a person might type it: spaces, ideographic spaces and line breaks in between."""
    out = ""
    for ch in s:
        out += data.draw(st.sampled_from(["", " ", "\n", "\u3000"])) + ch
    return out


@given(st.data())
def test_every_member_column_is_found_under_any_alias(data: st.DataObject) -> None:
    """R1.9: every grandparent, guardian and parent column, flattened (祖父姓名) or under its member's
    group (祖父/姓名), by any name county ledgers give the member and the field."""
    col = data.draw(st.sampled_from([c for c in COLUMNS if c.member]))
    assert col.member is not None
    alias = data.draw(st.sampled_from([a for a in MEMBER_ALIASES[col.member] if len(a) > 1]))
    name = data.draw(st.sampled_from([col.base_header, *col.synonyms]))
    assert LOOKUP[norm_header(_spaced("*" + alias + name, data))] == col.key
    assert member_of_group(alias) == col.member
    assert _match(_spaced(name, data), alias) == col.key  # the leaf under the member's group


_RELATIONSHIPS = [
    ("61", "祖父"),
    ("62", "祖母"),
    ("63", "外祖父"),
    ("64", "外祖母"),
    ("81", "伯父"),
    ("97", "其他亲属"),
]


@given(st.sampled_from(_RELATIONSHIPS), st.booleans(), st.data())
def test_relationship_by_label_or_code_in_any_width(
    pair: tuple[str, str], by_code: bool, data: st.DataObject
) -> None:
    """R1.3: 与儿童关系 by its GB/T 4761 label or code, full-width or with stray spaces."""
    code, label = pair
    raw = code if by_code else label
    if data.draw(st.booleans()):
        raw = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in raw)  # full-width digits
    raw = data.draw(st.sampled_from(["", " ", "\u3000"])) + raw + data.draw(st.sampled_from(["", " "]))
    assert parse.parse_code("relationship", raw) == code


@given(st.text(alphabet="邻居同学老师朋友xyz", min_size=1, max_size=4))
def test_unknown_relationship_says_how_to_fix_it(raw: str) -> None:
    """R1.9: a reason in Chinese that says what to write instead."""
    with pytest.raises(parse.ParseError, match="GB/T 4761"):
        parse.parse_code("relationship", raw)


@pytest.mark.parametrize(
    ("word", "code"), [("爷爷", "61"), ("奶奶", "62"), ("外公", "63"), ("外婆", "64"), ("外祖父母", "69")]
)
def test_relationship_in_everyday_words(word: str, code: str) -> None:
    """R1.3: the words ledgers use; a couple (外祖父母) is GB/T 4761's 其他祖父母或外祖父母."""
    assert parse.parse_code("relationship", word) == code
