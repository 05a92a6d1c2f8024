"""Link proposals: reading a branch, storing a proposal, applying it all or nothing; views and commands."""

import datetime as dt
import io
import json
import math

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from lianhu.audit.models import AuditEntry
from lianhu.members.tests.factories import make_member
from lianhu.org.tests.factories import make_household
from lianhu.members import proposals, services
from lianhu.members.models import LiaisonLink, LinkProposal, ProposalStatus
from lianhu.members.proposals import proposal_apply, proposal_create, proposal_discard

pytestmark = pytest.mark.django_db

ORIGIN = (113.770, 34.450)


def at(east: float, north: float) -> dict:
    """lng/lat of a point `east` and `north` metres from ORIGIN."""
    lat = ORIGIN[1] + math.degrees(north / proposals.EARTH_RADIUS_M)
    lng = ORIGIN[0] + math.degrees(east / (proposals.EARTH_RADIUS_M * math.cos(math.radians(ORIGIN[1]))))
    return {"lng": lng, "lat": lat}


def active_member(household) -> str | None:
    link = LiaisonLink.objects.active().filter(household=household).select_related("member").first()
    return link.member.name if link else None


@pytest.fixture
def street(world):
    """Branch A laid out along a street: 李建国 (member_a) holds household_a; 周新民 lives next to it."""
    from lianhu.org.models import Household

    Household.objects.filter(pk=world.household_a.pk).update(**at(0, 0))
    Household.objects.filter(pk=world.household_a2.pk).update(**at(400, 0))
    world.member_a.lng, world.member_a.lat = at(0, 10).values()
    world.member_a.save(update_fields=["lng", "lat"])
    world.zhou = make_member(world.branch_a, "周新民", grid=world.grid_a, **at(30, 40))
    world.far = make_member(world.branch_a, "吴远", grid=world.grid_a2, **at(2000, 0))
    return world


def test_the_projection_is_within_a_thousandth_of_the_great_circle_distance():
    a, b = (113.75, 34.43), (113.79, 34.47)
    x, y = proposals.project([a[0], b[0]], [a[1], b[1]], origin=ORIGIN)
    projected = math.hypot(x[1] - x[0], y[1] - y[0])
    phi1, phi2 = math.radians(a[1]), math.radians(b[1])
    h = math.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(b[0] - a[0]) / 2) ** 2
    great_circle = 2 * proposals.EARTH_RADIUS_M * math.asin(math.sqrt(h))

    assert abs(projected - great_circle) / great_circle < 0.001


def test_an_exempt_members_households_get_the_nearest_member_with_room(street):
    w = street
    services.member_mark_exempt(member=w.member_a, reason="病", since=dt.date(2026, 11, 1), approved_by="王书记",
                                actor=w.secretary_a)

    proposal = proposal_create(office=w.office, branch=w.branch_a, actor=w.secretary_a)

    changes = {c["household"]: c for c in proposal.changes}
    assert set(changes) == {w.household_a.pk, w.household_a2.pk}
    assert changes[w.household_a.pk]["to_name"] == "周新民" and changes[w.household_a.pk]["walk_after"] == 50
    assert changes[w.household_a2.pk]["to_name"] == "周新民" and changes[w.household_a2.pk]["walk_after"] == 372
    totals = proposal.summary["totals"]
    assert (totals["households_in_solve"], totals["new_links"], totals["unplaced"]) == (2, 2, 0)
    zhou = next(m for m in proposal.summary["members"] if m["name"] == "周新民")
    assert zhou["before"] == {"households": 0, "total": 0, "longest": 0, "unmeasured": 0}
    assert zhou["after"] == {"households": 2, "total": 422, "longest": 372, "unmeasured": 0}
    assert proposal.status == ProposalStatus.DRAFT and proposal.branch == w.branch_a
    assert active_member(w.household_a) is None  # nothing changes before it is applied
    assert AuditEntry.objects.filter(object_type="members.linkproposal", action="create").exists()


def test_a_branch_short_of_places_reports_the_households_left_out_and_the_missing_places(street):
    w = street
    w.zhou.capacity = 1
    w.zhou.save(update_fields=["capacity"])
    w.far.delete()
    extra = make_household(w.grid_a, "甲村一组9号", **at(5, 5))
    # 李建国 (capacity 10, one household) is full after this: 9 more households he cannot take.
    for i in range(9):
        make_household(w.grid_a, f"甲村一组{20 + i}号", **at(10 + i, 0))

    proposal = proposal_create(office=w.office, branch=w.branch_a, actor=w.secretary_a)

    branch = proposal.summary["branches"][0]
    assert (branch["unlinked"], branch["free"], branch["placed"], branch["unplaced"], branch["missing"]) == (11, 10, 10, 1, 1)
    assert [u["address"] for u in proposal.summary["unplaced"]] == [w.household_a2.address]  # the farthest one
    assert extra.pk in {c["household"] for c in proposal.changes}


def test_households_without_coordinates_are_placed_by_grid_and_flagged(world):
    near_grid = make_member(world.branch_a, "周新民", grid=world.grid_a2)
    make_member(world.branch_a, "吴远", grid=world.grid_a)

    proposal = proposal_create(office=world.office, branch=world.branch_a, actor=world.secretary_a)

    (change,) = proposal.changes
    assert change["household"] == world.household_a2.pk and change["to"] == near_grid.pk
    assert change["walk_after"] is None and proposal.summary["totals"]["no_coordinates"] == 1


def test_applying_links_every_household_and_audits_it(street):
    w = street
    services.member_mark_exempt(member=w.member_a, reason="病", since=dt.date(2026, 11, 1), approved_by="王书记",
                                actor=w.secretary_a)
    proposal = proposal_create(office=w.office, branch=w.branch_a, actor=w.secretary_a)

    count = proposal_apply(proposal=proposal, actor=w.secretary_a, ip="10.0.0.1")

    assert count == 2
    assert active_member(w.household_a) == "周新民" and active_member(w.household_a2) == "周新民"
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED and proposal.decided_by == w.secretary_a
    entry = AuditEntry.objects.get(object_type="members.linkproposal", action="update")
    assert entry.detail == {"applied": True, "changes": 2} and entry.office_id == w.office.pk
    assert AuditEntry.objects.filter(action="link", object_id=str(w.household_a2.pk)).exists()
    with pytest.raises(ValidationError, match="已应用"):
        proposal_apply(proposal=proposal, actor=w.secretary_a)


def test_a_proposal_whose_links_changed_since_is_refused_as_stale(street):
    w = street
    proposal = proposal_create(office=w.office, branch=w.branch_a, actor=w.secretary_a)
    services.link_create(member=w.far, household=w.household_a2, actor=w.secretary_a)  # someone links it by hand

    with pytest.raises(ValidationError, match="已过期"):
        proposal_apply(proposal=proposal, actor=w.secretary_a)

    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.STALE
    assert active_member(w.household_a2) == "吴远"


def test_applying_is_all_or_nothing(street):
    w = street
    services.member_mark_exempt(member=w.member_a, reason="病", since=dt.date(2026, 11, 1), approved_by="王书记",
                                actor=w.secretary_a)
    proposal = proposal_create(office=w.office, branch=w.branch_a, actor=w.secretary_a)
    w.zhou.capacity = 1  # lowered after the proposal was made: the second link no longer fits
    w.zhou.save(update_fields=["capacity"])

    with pytest.raises(ValidationError, match="超过可联系户数上限"):
        proposal_apply(proposal=proposal, actor=w.secretary_a)

    assert active_member(w.household_a) is None and active_member(w.household_a2) is None
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT


def test_rebalancing_swaps_households_between_two_full_members(street):
    w = street
    # 李建国 (next to household_a) holds the far household_a2; 吴远 (far away) holds household_a.
    w.member_a.capacity = 1
    w.member_a.save(update_fields=["capacity"])
    w.far.capacity = 1
    w.far.lng, w.far.lat = at(420, 0).values()
    w.far.save(update_fields=["capacity", "lng", "lat"])
    w.zhou.delete()
    LiaisonLink.objects.filter(pk=w.link_a.pk).update(member=w.far)
    services.link_create(member=w.member_a, household=w.household_a2, actor=w.secretary_a)

    proposal = proposal_create(office=w.office, branch=w.branch_a, actor=w.secretary_a, rebalance_margin=100)
    assert proposal.summary["totals"]["moves"] == 2
    proposal_apply(proposal=proposal, actor=w.secretary_a)

    assert active_member(w.household_a) == "李建国" and active_member(w.household_a2) == "吴远"


def test_discarding_changes_nothing(street):
    w = street
    proposal = proposal_create(office=w.office, branch=w.branch_a, actor=w.secretary_a)

    proposal_discard(proposal=proposal, actor=w.secretary_a)

    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DISCARDED and active_member(w.household_a2) is None
    with pytest.raises(ValidationError):
        proposal_apply(proposal=proposal, actor=w.secretary_a)


# ---------------------------------------------------------------------------------------------
# Web pages.


@pytest.fixture
def branch_a_proposal(world):
    return proposal_create(office=world.office, branch=world.branch_a, actor=world.secretary_a)


PROPOSAL_URLS = [
    ("members:proposal_detail", "get"),
    ("members:proposal_apply", "post"),
    ("members:proposal_discard", "post"),
]


@pytest.mark.parametrize("persona", ["secretary_b", "other_office_admin", "advisor_b", "member_user", "grid_worker_a"])
@pytest.mark.parametrize("name,method", PROPOSAL_URLS)
def test_users_outside_branch_a_get_404_for_its_proposal(world, client, branch_a_proposal, persona, name, method):
    client.force_login(getattr(world, persona))

    response = getattr(client, method)(reverse(name, args=[branch_a_proposal.pk]))

    assert response.status_code == 404
    branch_a_proposal.refresh_from_db()
    assert branch_a_proposal.status == ProposalStatus.DRAFT


@pytest.mark.parametrize("persona", ["secretary_b", "other_office_admin", "advisor_b", "member_user"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_users_outside_branch_a_cannot_ask_for_its_proposal(world, client, persona, method):
    client.force_login(getattr(world, persona))

    response = getattr(client, method)(reverse("members:proposal_create"), {"branch": world.branch_a.pk})

    assert response.status_code == 404
    assert not LinkProposal.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_branch_secretary_cannot_ask_for_a_whole_office(world, client, method):
    client.force_login(world.secretary_a)

    response = getattr(client, method)(reverse("members:proposal_create"), {"office": world.office.pk})

    assert response.status_code == 404


def test_an_office_proposal_is_not_shown_to_a_branch_secretary(world, client):
    proposal = proposal_create(office=world.office, actor=world.office_staff)
    client.force_login(world.secretary_a)

    assert client.get(reverse("members:proposal_detail", args=[proposal.pk])).status_code == 404
    client.force_login(world.office_admin)
    assert client.get(reverse("members:proposal_detail", args=[proposal.pk])).status_code == 200


def test_a_secretary_asks_reviews_and_applies_a_proposal_for_his_branch(street, client):
    w = street
    client.force_login(w.secretary_a)
    needs = client.get(reverse("members:needs_member")).content.decode()
    assert "一键生成联系方案" in needs

    response = client.post(reverse("members:proposal_create"), {"branch": w.branch_a.pk})

    proposal = LinkProposal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("members:proposal_detail", args=[proposal.pk])
    page = client.get(response["Location"]).content.decode()
    assert "确认应用" in page and "周新民" in page and w.household_a2.address in page
    response = client.post(reverse("members:proposal_apply", args=[proposal.pk]), follow=True)
    assert "联系方案已应用：1 户" in response.content.decode()
    assert active_member(w.household_a2) == "周新民"


def test_the_options_form_asks_for_a_rebalance_with_a_margin(street, client):
    client.force_login(street.office_staff)
    assert client.get(reverse("members:proposal_create"), {"office": street.office.pk}).status_code == 200

    client.post(reverse("members:proposal_create"), {"office": street.office.pk, "rebalance": "on", "margin": "25"})

    proposal = LinkProposal.objects.get()
    assert proposal.rebalance_margin == 25 and proposal.branch is None


def test_the_page_says_when_links_changed_since_and_offers_no_apply(street, client):
    w = street
    proposal = proposal_create(office=w.office, branch=w.branch_a, actor=w.secretary_a)
    services.link_create(member=w.far, household=w.household_a2, actor=w.secretary_a)
    client.force_login(w.secretary_a)

    page = client.get(reverse("members:proposal_detail", args=[proposal.pk])).content.decode()

    assert "该方案已过期" in page and "确认应用" not in page
    response = client.post(reverse("members:proposal_apply", args=[proposal.pk]), follow=True)
    assert "已过期" in response.content.decode()


def test_the_page_reports_unplaced_households_and_missing_places(world, client):
    make_member(world.branch_a, "陈满", capacity=0)
    world.member_a.capacity = 1
    world.member_a.save(update_fields=["capacity"])
    proposal = proposal_create(office=world.office, branch=world.branch_a, actor=world.secretary_a)
    client.force_login(world.secretary_a)

    page = client.get(reverse("members:proposal_detail", args=[proposal.pk])).content.decode()

    assert "甲村：1 户无法安排，缺少 1 个联系名额" in page


def test_the_office_overview_offers_the_button_to_office_staff_only(world, client):
    client.force_login(world.office_staff)
    assert "一键生成联系方案" in client.get(reverse("dashboard:office_overview", args=[world.office.pk])).content.decode()
    client.force_login(world.zone_admin)
    assert "一键生成联系方案" not in client.get(
        reverse("dashboard:office_overview", args=[world.office.pk])).content.decode()


# ---------------------------------------------------------------------------------------------
# Management commands.


def test_propose_links_prints_the_proposal_and_applies_it_on_request(street):
    out = io.StringIO()

    call_command("propose_links", "--office", "甲办事处", "--branch", "甲村", "--format", "json", stdout=out)

    result = json.loads(out.getvalue())
    assert result["status"] == "draft" and [c["to_name"] for c in result["changes"]] == ["周新民"]
    out = io.StringIO()
    call_command("propose_links", "--office", "甲办事处", "--apply", stdout=out)
    assert "方案已应用：1 户" in out.getvalue()  # 乙社区's only household is linked already
    assert active_member(street.household_a2) == "周新民"


def test_propose_links_explains_an_unknown_office():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="没有名为“无此办事处”的办事处"):
        call_command("propose_links", "--office", "无此办事处")


def test_solve_links_reads_and_writes_the_documented_format(tmp_path):
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    source.write_text(json.dumps({
        "households": [{"id": "h1", "branch": "b", "x": 0, "y": 0, "member": None}],
        "members": [{"id": "m1", "branch": "b", "x": 3, "y": 4, "capacity": 10}],
        "rebalance_margin": None,
    }), encoding="utf-8")

    call_command("solve_links", "--input", str(source), "--output", str(target))

    assert json.loads(target.read_text(encoding="utf-8")) == {"assignment": {"h1": "m1"}, "unplaced": [], "cost": 5}


def test_solve_links_reports_bad_input_in_chinese(tmp_path):
    from django.core.management.base import CommandError

    source = tmp_path / "in.json"
    source.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="输入不是有效的 JSON"):
        call_command("solve_links", "--input", str(source), "--output", str(tmp_path / "out.json"))
