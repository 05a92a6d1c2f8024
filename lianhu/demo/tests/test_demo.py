import json
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q

from lianhu.accounts.models import Membership, Role, User
from lianhu.common.seeders import stream
from lianhu.common.validators import parse_id_number
from lianhu.demo.accounts import DEMO_PASSWORD, USERNAMES
from lianhu.members.models import LiaisonLink, MemberStatus, PartyMember
from lianhu.org.demo import plan_zone
from lianhu.org.models import Branch, BranchKind, Grid, Household, Office, Resident, Zone

SEED = 1
MODELS = (Zone, Office, Branch, Grid, Household, Resident, PartyMember, LiaisonLink, User, Membership)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Load the demo once for the module, in a transaction rolled back when the module is done."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        call_command("load_demo", seed=SEED, verbosity=0, stdout=StringIO())
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]


def stats(office: str) -> dict:
    out = StringIO()
    call_command("liaison_stats", office=office, format="json", stdout=out)
    return json.loads(out.getvalue())


def test_minggang_matches_the_seed_page_exactly():
    assert stats("明港办事处") == {
        "branches": 17,
        "members": 911,
        "members_linking": 675,
        "members_exempt": 236,
        "households": 5233,
        "households_linked": 5233,
        "households_unlinked": 0,
    }


def test_the_branches_named_in_the_seed_page_exist_in_their_offices():
    names = set(Branch.objects.values_list("office__name", "name"))
    for branch in ("钟观社区", "坟后吕村", "东王马村", "湾左村", "双楼村"):
        assert ("明港办事处", branch) in names
    for branch in ("湛庄村", "后宋村", "谷庄村"):
        assert ("郑港办事处", branch) in names
    assert ("龙港办事处", "白庄村") in names


def test_longgang_has_ten_village_branches():
    branches = Branch.objects.filter(office__name="龙港办事处")
    assert branches.count() == 10
    assert set(branches.values_list("kind", flat=True)) == {BranchKind.VILLAGE}


def test_the_other_offices_are_fully_linked_and_have_exempt_members():
    for office in ("郑港办事处", "龙港办事处"):
        figures = stats(office)
        assert 1500 <= figures["households"] <= 2500
        assert figures["households_unlinked"] == 0
        assert figures["members_exempt"] > 0


def test_codes_follow_the_national_layout():
    for office in Office.objects.all():
        assert len(office.code) == 12 and office.code.startswith("410173")
    for branch in Branch.objects.select_related("office"):
        assert len(branch.code) == 12 and branch.code[:9] == branch.office.code[:9]
    for grid in Grid.objects.select_related("branch"):
        assert len(grid.code) == 15 and grid.code[:12] == grid.branch.code
    mismatched = Household.objects.filter(~Q(code__startswith=F("branch__code")) | ~Q(grid__branch=F("branch")))
    assert not mismatched.exists()
    assert Household.objects.filter(code__regex=r"^[0-9]{16}$").count() == Household.objects.count()


def test_every_branch_has_two_to_six_grids():
    counts = Branch.objects.annotate(n=Count("grids")).values_list("n", flat=True)
    assert all(2 <= n <= 6 for n in counts)


def test_every_household_has_exactly_one_active_link_to_an_active_member_of_its_branch():
    active_links = Count("links", filter=Q(links__ended_on__isnull=True))
    assert not Household.objects.annotate(n=active_links).exclude(n=1).exists()
    active = LiaisonLink.objects.active()
    assert not active.exclude(member__status=MemberStatus.ACTIVE).exists()
    assert not active.exclude(member__branch=F("household__branch")).exists()


def test_no_member_holds_more_households_than_his_capacity_and_every_active_member_holds_one():
    members = PartyMember.objects.filter(status=MemberStatus.ACTIVE).annotate(
        n=Count("links", filter=Q(links__ended_on__isnull=True))
    )
    assert not members.filter(n__gt=F("capacity")).exists()
    assert not members.filter(n=0).exists()
    assert set(members.values_list("capacity", flat=True)) <= set(range(8, 13))


def test_reassigned_links_are_history_with_sane_dates():
    ended = LiaisonLink.objects.filter(ended_on__isnull=False)
    assert ended.exists()
    assert not ended.exclude(end_reason="reassigned").exists()
    assert not ended.filter(ended_on__lt=F("started_on")).exists()


def test_every_exempt_member_has_a_reason_a_date_and_an_approver_and_many_keep_a_post():
    exempt = PartyMember.objects.filter(status=MemberStatus.EXEMPT)
    assert set(exempt.values_list("exempt_reason", flat=True)) == {"老", "弱", "病", "残"}
    assert not exempt.filter(Q(exempt_since__isnull=True) | Q(exempt_approved_by="")).exists()
    assert exempt.exclude(post="").count() > exempt.count() / 3


def test_every_resident_id_number_decrypts_to_a_valid_one_matching_birth_date_and_gender():
    residents = Resident.objects.only("id_number_cipher", "birth_date_cipher", "gender")
    for resident in residents.iterator(chunk_size=2000):
        parsed = parse_id_number(resident.reveal_id_number())
        assert (parsed.kind, parsed.birth_date, parsed.gender) == ("resident18", resident.birth_date, resident.gender)
    assert residents.count() == Resident.objects.values("id_number_hash").distinct().count()


def test_households_have_one_to_five_residents_headed_by_a_householder():
    heads = Count("residents", filter=Q(residents__relation="户主"))
    sizes = Household.objects.annotate(n=Count("residents"), heads=heads)
    assert not sizes.filter(Q(n__lt=1) | Q(n__gt=5) | ~Q(heads=1)).exists()
    assert 2.7 <= Resident.objects.count() / Household.objects.count() <= 3.3


def test_zhongguan_has_the_seven_raised_self_built_houses():
    houses = Household.objects.filter(branch__name="钟观社区", self_built=True)
    assert houses.count() == 7
    assert set(houses.values_list("floors", flat=True)) <= {4, 5}


def test_about_one_household_in_ten_has_never_been_visited():
    share = Household.objects.filter(last_visited_at__isnull=True).count() / Household.objects.count()
    assert 0.07 <= share <= 0.13


def test_demo_accounts_log_in_with_the_shared_password_and_hold_their_roles(settings):
    settings.LIANHU_DEMO_MODE = True
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {
        "zone": Role.ZONE_ADMIN, "minggang": Role.OFFICE_ADMIN, "minggang_staff": Role.OFFICE_STAFF,
        "zhengang": Role.OFFICE_ADMIN, "longgang": Role.OFFICE_ADMIN, "zhongguan": Role.BRANCH_SECRETARY,
        "fenhoulv": Role.BRANCH_SECRETARY, "member": Role.MEMBER, "grid": Role.GRID_WORKER, "advisor": Role.ADVISOR,
        "minggang_audit": Role.AUDIT_ADMIN, "zone_audit": Role.AUDIT_ADMIN,
    }
    assert set(roles) == set(USERNAMES)  # the names load_demo checks are free before it writes anything
    for username in roles:
        assert authenticate(RequestFactory().post("/accounts/login/"), username=username, password=DEMO_PASSWORD) is not None
    assert not User.objects.filter(is_superuser=True).exists()


def test_demo_accounts_are_marked_meet_the_password_policy_and_are_not_forced_to_change(settings):
    from django.contrib.auth.password_validation import validate_password

    settings.LIANHU_DEMO_MODE = True
    for user in User.objects.filter(username__in=USERNAMES):
        assert user.is_demo and not user.must_change_password and not user.password_change_due()
        validate_password(DEMO_PASSWORD, user)


def test_the_demo_zone_and_office_accounts_log_in_without_a_second_factor_in_the_demo_mode(settings):
    """The README's choice: waived in the demo mode, so that `make demo` and a browser bring a newcomer in."""
    from django.test import Client

    settings.LIANHU_DEMO_MODE = True
    for username in ("zone", "minggang", "minggang_staff"):
        client = Client()
        assert client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD}).status_code == 302
        home = client.get("/", follow=True)
        assert home.status_code == 200 and not any("second-factor" in url for url, _ in home.redirect_chain)
        assert client.get("/api/v1/households").status_code == 200


def test_demo_accounts_are_refused_unless_the_demo_mode_is_on(settings):
    settings.LIANHU_DEMO_MODE = False
    assert authenticate(RequestFactory().post("/accounts/login/"), username="minggang", password=DEMO_PASSWORD) is None


def test_the_readme_and_the_makefile_give_the_demo_password_and_make_demo_turns_the_demo_mode_on():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    assert f"Password `{DEMO_PASSWORD}`" in (root / "README.md").read_text(encoding="utf-8")
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    demo_target = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert f"password {DEMO_PASSWORD}" in demo_target and "export LIANHU_DEMO_MODE=1" in demo_target


def test_the_member_account_is_a_fenhoulv_member_holding_several_households():
    user = User.objects.get(username="member")
    member = user.party_member
    assert member.branch.name == "坟后吕村" and member.status == MemberStatus.ACTIVE
    assert member.links.active().count() >= 2
    assert user.memberships.get().member == member


def test_the_advisor_is_the_professor_advising_zhanzhuang_and_housong():
    membership = Membership.objects.get(user__username="advisor")
    assert membership.user.display_name == "谢海军"
    assert set(membership.advised_branches.values_list("name", flat=True)) == {"湛庄村", "后宋村"}


def test_loading_the_demo_a_second_time_changes_nothing():
    before = [model.objects.count() for model in MODELS]
    out = StringIO()

    call_command("load_demo", seed=SEED + 1, verbosity=0, stdout=out)

    assert [model.objects.count() for model in MODELS] == before
    assert "未做任何修改" in out.getvalue()


def test_the_database_holds_exactly_the_plan_of_its_seed():
    plan = plan_zone(stream(SEED, "org"))
    first = plan.offices[0].branches[0].households[0]
    stored = Household.objects.get(code=first.code)
    assert stored.address == first.address
    assert list(stored.residents.values_list("name", flat=True)) == [r.name for r in first.residents]


def test_the_same_seed_gives_the_same_plan_and_another_seed_a_different_one():
    plan = plan_zone(stream(7, "org"))
    assert plan == plan_zone(stream(7, "org"))
    assert plan != plan_zone(stream(8, "org"))
