"""Demo data of org: the zone of the seed page, its offices, branches, grids, households and residents.

The `org` seeder plans the zone from its own random stream (`plan_zone`: plain dataclasses, no
database, no clock, so the same seed always gives the same zone) and stores it with bulk inserts.
`manage.py load_demo` (the demo app) runs it first; the apps above org read what it stored.

The office specs and the person generator live here because org is the lowest app that needs
them: the members seeder takes each office's member figures and approver from `OFFICE_SPECS`, and
draws its members' names, ID numbers and phones with `People`, like the residents'. 明港办事处 holds
the seed page's figures: 17 branches, 5,233 households, 675 members linking them, 236 unable to serve.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from stdnum.cn import ric

from lianhu.common.pinyin import name_initials
from lianhu.common.seeders import SeedContext, seeder
from lianhu.org.models import (
    Branch, BranchKind, CareTag, Grid, Household, Office, Relation, Resident, SensitiveTag, Zone,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Every date is fixed, so a seed gives the same data whatever day it is loaded.
REFERENCE_DATE = dt.date(2026, 11, 1)  # ages are counted to this day
LAST_VISIT_DAY = dt.date(2026, 11, 20)
BATCH_SIZE = 500

Progress = Callable[[int, int], object]  # (households done, households in all)


# ---------------------------------------------------------------------------------------------
# The plan: plain data, compared field by field in tests.


@dataclass
class ResidentPlan:
    name: str
    gender: str
    birth_date: dt.date
    relation: str
    id_number: str
    phone: str
    care_tags: list[str]
    sensitive_tags: list[str]


@dataclass
class HouseholdPlan:
    code: str
    grid: int  # index into BranchPlan.grids
    address: str
    villager_group: str
    lng: float
    lat: float
    self_built: bool
    floors: int | None
    built_year: int | None
    last_visited_at: dt.datetime | None
    residents: list[ResidentPlan]


@dataclass
class GridPlan:
    name: str
    code: str


@dataclass
class BranchPlan:
    name: str
    kind: str
    code: str
    grids: list[GridPlan]
    households: list[HouseholdPlan]


@dataclass
class OfficePlan:
    name: str
    code: str
    branches: list[BranchPlan]


@dataclass
class ZonePlan:
    name: str
    code: str
    offices: list[OfficePlan]

    @property
    def household_count(self) -> int:
        return sum(len(b.households) for o in self.offices for b in o.branches)


# ---------------------------------------------------------------------------------------------
# What the zone looks like.


@dataclass(frozen=True)
class OfficeSpec:
    name: str
    code: str
    centre: tuple[float, float]  # lng, lat
    branches: tuple[str, ...]  # names ending in 村 are villages, in 社区 communities
    approver: str  # who signs the exemption of members unable to serve (and the office leader's account)
    households: int | None = None  # exact figures, or None to draw realistic ones
    # Read by the members seeder: the figures belong with the office they describe.
    members_active: int | None = None
    members_exempt: int | None = None


ZONE_NAME, ZONE_CODE = "郑州航空港实验区", "410173"
MINGGANG = OfficeSpec(
    name="明港办事处",
    code="410173101000",
    centre=(113.770, 34.450),
    branches=(
        "钟观社区", "港城社区", "明港社区",
        "坟后吕村", "东王马村", "湾左村", "双楼村", "小王庄村", "前宋村", "大刘村", "孟庄村",
        "西张村", "老庄村", "马坡村", "南岗村", "杨岗村", "后李村",
    ),
    approver="王振国",
    # The seed page: 17 branches, 675 members linking 5,233 households, 236 unable to serve.
    households=5233,
    members_active=675,
    members_exempt=236,
)
ZHENGGANG = OfficeSpec(
    name="郑港办事处",
    code="410173102000",
    centre=(113.860, 34.500),
    branches=("郑港社区", "湛庄村", "后宋村", "谷庄村", "大营村", "罗庄村", "韩家村", "徐庄村"),
    approver="高建民",
)
LONGGANG = OfficeSpec(
    name="龙港办事处",
    code="410173103000",
    centre=(113.800, 34.580),
    branches=("白庄村", "龙王村", "张庄村", "高庄村", "岗李村", "刘集村", "东赵村", "西郭村", "许庄村", "朱家村"),
    approver="陈国栋",
)
OFFICE_SPECS = (MINGGANG, ZHENGGANG, LONGGANG)
SELF_BUILT_RAISED = ("钟观社区", 7)  # the seed's seven self-built houses raised to four or five floors

# Surnames weighted toward Henan; 单 and 曾 are there for the pinyin-initials edge cases.
SURNAME_WEIGHTS = {
    "王": 75, "李": 70, "张": 70, "刘": 50, "陈": 35, "杨": 30, "赵": 25, "郭": 20, "周": 15, "孙": 15,
    "马": 15, "高": 15, "黄": 10, "吴": 10, "徐": 12, "朱": 12, "胡": 10, "宋": 12, "吕": 10, "许": 10,
    "何": 6, "林": 3, "罗": 5, "郑": 9, "梁": 7, "谢": 6, "唐": 5, "韩": 10, "曹": 9, "邓": 5, "冯": 10,
    "苏": 6, "魏": 8, "田": 7, "任": 6, "姚": 5, "范": 5, "贾": 6, "史": 4, "段": 4, "侯": 4, "常": 4,
    "白": 4, "牛": 3, "秦": 3, "蔡": 3, "樊": 3, "孟": 4, "谷": 2, "湛": 1, "钟": 2, "左": 2, "岳": 3,
    "单": 2, "曾": 2,
}
SURNAMES = tuple(SURNAME_WEIGHTS)
SURNAME_CUM = tuple(itertools.accumulate(SURNAME_WEIGHTS.values()))
VILLAGE_SURNAME_SHARE = 0.3  # villages are often named after the clan that still makes up much of them

GIVEN_NAMES = {
    # (gender, generation) -> pool; generations: born before 1960, 1960-1984, 1985-2004, 2005 on.
    ("M", 0): "建国 国强 德明 保国 富贵 长发 志明 振华 春生 满仓 金堂 玉林 根生 铁柱 占魁 书贵 树林 德福 来福 清河".split(),
    ("F", 0): "秀英 桂兰 玉兰 凤英 秀兰 桂英 淑珍 玉梅 翠花 素珍 兰英 玉珍 春花 秀珍 爱花 巧云 金凤 素梅".split(),
    ("M", 1): "军 伟 勇 强 建伟 海军 红军 卫东 志刚 建军 国庆 晓东 永刚 新民 卫国 春雷 跃进 东升 伟华 振宇".split(),
    ("F", 1): "丽 红 静 艳 丽娟 红霞 海燕 艳玲 晓红 秀芳 丽萍 春燕 小红 桂芳 素芳 瑞霞 俊霞 玉红".split(),
    ("M", 2): "浩 鹏 磊 超 帅 凯 亚伟 晨阳 浩然 博文 宇航 家豪 俊杰 子豪 一鸣 振东 文博 明辉".split(),
    ("F", 2): "静怡 佳琪 梦瑶 雨萱 欣怡 晓雪 亚楠 婷婷 倩 雪梅 思雨 梦洁 晓琳 佳慧 晶晶 园园".split(),
    ("M", 3): "子轩 梓轩 浩宇 宇轩 皓轩 子墨 一诺 沐阳 俊熙 睿泽 梓豪 奕辰 锦程 嘉懿".split(),
    ("F", 3): "子涵 梓涵 欣妍 可馨 一诺 诗涵 雨桐 若汐 梓萱 语桐 艺涵 沐晴 悦然 安琪".split(),
}
# The zone was carved out of 新郑市, 中牟县 and 尉氏县: people's ID numbers carry those region codes.
REGIONS, REGION_WEIGHTS = ("410184", "410122", "410223"), (6, 3, 1)
MOBILE_PREFIXES = tuple(f"13{d}" for d in range(10)) + ("150", "151", "152", "153", "155", "156", "157", "158",
                                                        "159", "180", "182", "183", "185", "186", "187", "188", "189")
CN_NUMERALS = "一二三四五六七八九十"
METRES_PER_DEGREE_LAT = 111_320.0


# ---------------------------------------------------------------------------------------------
# The seeder.


@seeder("org")
def seed_org(ctx: SeedContext) -> None:
    """Zone, offices, branches, grids, households and residents, from the org stream."""
    report = ctx.progress or (lambda phase, done, total: None)
    people = People(ctx.rng)
    plan = plan_zone(ctx.rng, people, progress=lambda done, total: report("生成住户与居民", done, total))
    write_zone(plan, progress=lambda done, total: report("写入住户与居民", done, total))
    # The demo's members are other people than its residents, and an ID number names one person:
    # the members seeder, on its own stream, must not hand out a number a resident already holds.
    ctx.shared["org"] = {"id_numbers": people.id_numbers, "phones": people.phones}


# ---------------------------------------------------------------------------------------------
# Building the plan.


def plan_zone(rng: random.Random, people: People | None = None, progress: Progress | None = None) -> ZonePlan:
    """The whole demo zone drawn from `rng`; `progress` is told after each branch."""
    people = people or People(rng)
    sizes = [spec.households or rng.randint(1600, 2400) for spec in OFFICE_SPECS]  # first: the total to report
    total, done = sum(sizes), 0

    def planned(households: int) -> None:
        nonlocal done
        done += households
        if progress:
            progress(done, total)

    offices = [_plan_office(rng, people, spec, households, planned) for spec, households in zip(OFFICE_SPECS, sizes)]
    return ZonePlan(name=ZONE_NAME, code=ZONE_CODE, offices=offices)


def _plan_office(rng: random.Random, people: People, spec: OfficeSpec, households: int,
                 planned: Callable[[int], None]) -> OfficePlan:
    n = len(spec.branches)
    mean = households / n
    per_branch = _split(rng, households, n, low=int(mean * 0.5), high=int(mean * 1.8))
    villages = [name for name in spec.branches if name.endswith("村")]
    communities = [name for name in spec.branches if name.endswith("社区")]
    # National numbering: residents' committees 001-199, villagers' committees from 201.
    numbers = {name: i + 1 for i, name in enumerate(communities)} | {name: 201 + i for i, name in enumerate(villages)}
    centres = _scatter_centres(rng, spec.centre, n)
    branches = []
    for i, name in enumerate(spec.branches):
        branch = _plan_branch(rng, people, name=name, code=f"{spec.code[:9]}{numbers[name]:03d}", centre=centres[i],
                              households=per_branch[i])
        branches.append(branch)
        planned(len(branch.households))
    branches.sort(key=lambda b: b.code)
    return OfficePlan(name=spec.name, code=spec.code, branches=branches)


def _plan_branch(rng: random.Random, people: People, *, name: str, code: str, centre: tuple[float, float],
                 households: int) -> BranchPlan:
    kind = BranchKind.COMMUNITY if name.endswith("社区") else BranchKind.VILLAGE
    raised = SELF_BUILT_RAISED[1] if name == SELF_BUILT_RAISED[0] else 0
    if kind == BranchKind.VILLAGE:
        sites, grid_count = _village_sites(rng, name, centre, households)
    else:
        sites, grid_count = _community_sites(rng, name, centre, households - raised)
        sites += _raised_houses(rng, name, centre, raised, grid=grid_count - 1)
    grids = [GridPlan(name=f"第{CN_NUMERALS[g]}网格", code=f"{code}{g + 1:03d}") for g in range(grid_count)]
    surnames = branch_surname_weights(name)
    return BranchPlan(name=name, kind=kind, code=code, grids=grids, households=[
        HouseholdPlan(code=f"{code}{k + 1:04d}", residents=people.household(surnames), last_visited_at=_last_visit(rng),
                      **site)
        for k, site in enumerate(sites)
    ])


def _village_sites(rng: random.Random, name: str, centre: tuple[float, float], count: int) -> tuple[list[dict], int]:
    """Houses in villager groups (村民组), each group a cluster around its own centre; groups make up grids."""
    groups = min(10, max(3, round(count / rng.uniform(35, 55))))
    sizes = apportion(count, [rng.uniform(0.6, 1.4) for _ in range(groups)])
    grid_count = min(6, max(2, math.ceil(groups / 2)))
    sites = []
    for g, size in enumerate(sizes):
        label = f"{CN_NUMERALS[g]}组"
        group_centre = _offset(centre, rng.uniform(150, 700), rng.uniform(0, 2 * math.pi))
        for number in range(1, size + 1):
            self_built = rng.random() < 0.85
            sites.append({
                "grid": g * grid_count // groups,
                "address": f"{name}{label}{number}号",
                "villager_group": label,
                **point_near(rng, group_centre, 90),
                "self_built": self_built,
                "floors": rng.choices((1, 2, 3, 4), (25, 55, 18, 2))[0] if self_built else None,
                "built_year": rng.randint(1985, 2022) if self_built else None,
            })
    return sites, grid_count


def _community_sites(rng: random.Random, name: str, centre: tuple[float, float], count: int) -> tuple[list[dict], int]:
    """Flats in resettlement buildings (安置小区): building, unit, floor and door; buildings make up grids."""
    flats = []  # (building, unit, floor, door)
    building = 0
    while len(flats) < count:
        building += 1
        floors = rng.randint(6, 18)
        for unit in (1, 2):
            for floor in range(1, floors + 1):
                for door in (1, 2):
                    if rng.random() < 0.85:  # some flats stand empty or are let to non-residents
                        flats.append((building, unit, floor, door))
    flats = flats[:count]
    buildings = flats[-1][0]
    grid_count = min(6, buildings, max(2, math.ceil(buildings / 3)))
    # Buildings stand in rows of four, 45 m apart along a row and 40 m between rows.
    positions = {b: _offset(_offset(centre, 45 * ((b - 1) % 4), 0), 40 * ((b - 1) // 4), math.pi / 2)
                 for b in range(1, buildings + 1)}
    return [
        {
            "grid": (b - 1) * grid_count // buildings,
            "address": f"{name}{b}号楼{unit}单元{floor}{door:02d}",
            "villager_group": f"{b}号楼",
            **point_near(rng, positions[b], 8),
            "self_built": False,
            "floors": None,
            "built_year": None,
        }
        for b, unit, floor, door in flats
    ], grid_count


def _raised_houses(rng: random.Random, name: str, centre: tuple[float, float], count: int, grid: int) -> list[dict]:
    """Self-built houses on the community's old street that their owners raised to four or five floors."""
    street = _offset(centre, 300, rng.uniform(0, 2 * math.pi))
    return [
        {
            "grid": grid,
            "address": f"{name}老街{number}号",
            "villager_group": "老街",
            **point_near(rng, street, 40),
            "self_built": True,
            "floors": rng.choice((4, 5)),
            "built_year": rng.randint(2019, 2024),
        }
        for number in range(1, count + 1)
    ]


class People:
    """Names, birth dates, ID numbers and phones; ID numbers and phones are never handed out twice.

    The sets of numbers already handed out can be passed in, so that a second generator (the
    members seeder's, on its own stream) avoids those of the first.
    """

    def __init__(self, rng: random.Random, *, id_numbers: set[str] | None = None, phones: set[str] | None = None):
        self.rng = rng
        self.id_numbers: set[str] = set() if id_numbers is None else id_numbers
        self.phones: set[str] = set() if phones is None else phones

    def household(self, surnames: tuple[float, ...]) -> list[ResidentPlan]:
        """One to five people, the first the head (户主); about three on average."""
        rng = self.rng
        size = rng.choices((1, 2, 3, 4, 5), (12, 26, 24, 22, 16))[0]
        family = self.surname(surnames)  # children carry the father's surname
        if size == 1:
            head_age = rng.randint(58, 92) if rng.random() < 0.8 else rng.randint(25, 57)
            head_gender = "M" if rng.random() < 0.45 else "F"
        else:
            head_age = rng.randint(28, 82)
            head_gender = "M" if rng.random() < 0.85 else "F"
        people = [(Relation.HEAD, head_gender, head_age, family if head_gender == "M" else self.surname(surnames))]
        if size >= 2 and (head_gender == "M" or rng.random() < 0.3):  # a woman heading a household is often widowed
            spouse_gender = "F" if head_gender == "M" else "M"
            spouse_age = min(95, max(22, head_age + rng.randint(-4, 3)))
            spouse_surname = family if spouse_gender == "M" else self.surname()
            people.append((Relation.SPOUSE, spouse_gender, spouse_age, spouse_surname))
        remaining = size - len(people)
        parents_away = False
        if head_age >= 58:
            if remaining and rng.random() < 0.45:
                people.append((Relation.CHILD, self.gender(), head_age - rng.randint(24, 32), family))
                remaining -= 1
            else:
                parents_away = True  # the grandchildren's parents work in the city
            people += [(Relation.GRANDCHILD, self.gender(), rng.randint(1, 16), family) for _ in range(remaining)]
        else:
            if remaining and size == 5 and head_age < 45 and rng.random() < 0.6:
                people.append((Relation.PARENT, "F", head_age + rng.randint(24, 30), self.surname()))
                remaining -= 1
            low = max(1, head_age - 40)
            people += [(Relation.CHILD, self.gender(), rng.randint(low, max(low, head_age - 22)), family)
                       for _ in range(remaining)]

        everyone_old = all(age >= 60 for *_, age, _ in people)
        residents = []
        for relation, gender, age, surname in people:
            birth = self.birth_date(age)
            care = []
            if age >= 80:
                care.append(CareTag.ELDERLY_80)
            if age >= 60 and size == 1:
                care.append(CareTag.LIVING_ALONE)
            elif age >= 60 and everyone_old and size == 2:
                care.append(CareTag.EMPTY_NEST)
            if relation == Relation.GRANDCHILD and parents_away and rng.random() < 0.7:
                care.append(CareTag.LEFT_BEHIND_CHILD)
            if gender == "M" and 30 <= age <= 80 and rng.random() < 0.03:
                care.append(CareTag.RETIRED_SOLDIER)
            sensitive = []
            if rng.random() < 0.02:
                sensitive.append(SensitiveTag.DISABLED)
            if rng.random() < (0.03 if age >= 55 else 0.008):
                sensitive.append(SensitiveTag.SERIOUS_ILLNESS)
            if relation == Relation.HEAD and rng.random() < 0.03:
                sensitive.append(SensitiveTag.SUBSISTENCE)
            if CareTag.LIVING_ALONE in care and rng.random() < 0.08:
                sensitive.append(SensitiveTag.EXTREME_POVERTY)
            has_phone = 16 <= age and rng.random() < (0.92 if age <= 75 else 0.4)
            residents.append(ResidentPlan(
                name=surname + self.given_name(gender, birth.year),
                gender=gender,
                birth_date=birth,
                relation=relation,
                id_number=self.id_number(birth, gender),
                phone=self.phone() if has_phone else "",
                care_tags=[str(t) for t in care],
                sensitive_tags=[str(t) for t in sensitive],
            ))
        return residents

    def surname(self, cum_weights: tuple[float, ...] = ()) -> str:
        return self.rng.choices(SURNAMES, cum_weights=cum_weights or SURNAME_CUM)[0]

    def gender(self) -> str:
        return self.rng.choice("MF")

    def given_name(self, gender: str, birth_year: int) -> str:
        generation = 0 if birth_year < 1960 else 1 if birth_year < 1985 else 2 if birth_year < 2005 else 3
        return self.rng.choice(GIVEN_NAMES[gender, generation])

    def birth_date(self, age: int) -> dt.date:
        start = dt.date(REFERENCE_DATE.year - age - 1, REFERENCE_DATE.month, REFERENCE_DATE.day)
        return start + dt.timedelta(days=self.rng.randint(1, 364))

    def id_number(self, birth: dt.date, gender: str) -> str:
        """A synthetic, check-digit-valid 18-digit number whose birth date and sex digit match the person."""
        region = self.rng.choices(REGIONS, REGION_WEIGHTS)[0]
        while True:
            serial = self.rng.randrange(500) * 2 + (1 if gender == "M" else 0)  # odd sequence digit = male
            body = f"{region}{birth:%Y%m%d}{serial:03d}"
            number = body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number


def branch_surname_weights(branch_name: str) -> tuple[float, ...]:
    """Cumulative surname weights for the people of a branch: 坟后吕村 has many a 吕."""
    return _surname_weights(tuple(ch for ch in branch_name[:-1] if ch in SURNAME_WEIGHTS))


@lru_cache(maxsize=None)
def _surname_weights(boosted: tuple[str, ...]) -> tuple[float, ...]:
    """Cumulative surname weights with the village's own surnames making up VILLAGE_SURNAME_SHARE."""
    if not boosted:
        return SURNAME_CUM
    total = SURNAME_CUM[-1]
    extra = total * VILLAGE_SURNAME_SHARE / (1 - VILLAGE_SURNAME_SHARE) / len(boosted)
    weights = [w + (extra if s in boosted else 0) for s, w in SURNAME_WEIGHTS.items()]
    return tuple(itertools.accumulate(weights))


def _last_visit(rng: random.Random) -> dt.datetime | None:
    if rng.random() < 0.1:  # about one household in ten has not been visited yet
        return None
    day = LAST_VISIT_DAY - dt.timedelta(days=rng.randrange(90))
    return dt.datetime.combine(day, dt.time(rng.randint(8, 18), rng.randrange(60)), tzinfo=SHANGHAI)


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder), the parts summing exactly to `total`."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    parts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _split(rng: random.Random, total: int, n: int, *, low: int, high: int) -> list[int]:
    """`n` uneven parts between `low` and `high` that sum to `total`."""
    parts = [low + p for p in apportion(total - low * n, [rng.uniform(0.1, 1.0) for _ in range(n)])]
    while max(parts) > high:
        parts[parts.index(max(parts))] -= 1
        parts[parts.index(min(parts))] += 1
    return parts


def _scatter_centres(rng: random.Random, centre: tuple[float, float], n: int) -> list[tuple[float, float]]:
    """Branch centres within about 4 km of the office, at least 1.2 km apart where the dice allow."""
    centres: list[tuple[float, float]] = []
    for _ in range(n):
        for _attempt in range(50):
            candidate = _offset(centre, 4000 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi))
            if all(_distance(candidate, c) >= 1200 for c in centres):
                break
        centres.append(candidate)
    return centres


def _offset(point: tuple[float, float], metres: float, bearing: float) -> tuple[float, float]:
    lng, lat = point
    dlat = metres * math.sin(bearing) / METRES_PER_DEGREE_LAT
    dlng = metres * math.cos(bearing) / (METRES_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return lng + dlng, lat + dlat


def point_near(rng: random.Random, centre: tuple[float, float], spread: float) -> dict[str, float]:
    """A point scattered around `centre` with a standard deviation of `spread` metres on each axis."""
    lng, lat = _offset(centre, rng.gauss(0, spread), 0)
    lng, lat = _offset((lng, lat), rng.gauss(0, spread), math.pi / 2)
    return {"lng": round(lng, 6), "lat": round(lat, 6)}


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    dy = (a[1] - b[1]) * METRES_PER_DEGREE_LAT
    dx = (a[0] - b[0]) * METRES_PER_DEGREE_LAT * math.cos(math.radians(a[1]))
    return math.hypot(dx, dy)


# ---------------------------------------------------------------------------------------------
# Writing the plan.


def write_zone(plan: ZonePlan, progress: Progress | None = None) -> Zone:
    """Store the plan with bulk inserts (the caller holds the transaction); `progress` is told after each branch."""
    zone = Zone.objects.create(name=plan.name, code=plan.code)
    total, done = plan.household_count, 0
    for office_plan in plan.offices:
        office = Office.objects.create(zone=zone, name=office_plan.name, code=office_plan.code)
        for branch_plan in office_plan.branches:
            _write_branch(office, branch_plan)
            done += len(branch_plan.households)
            if progress:
                progress(done, total)
    return zone


def _write_branch(office: Office, plan: BranchPlan) -> None:
    branch = Branch.objects.create(office=office, name=plan.name, kind=plan.kind, code=plan.code)
    grids = Grid.objects.bulk_create([Grid(branch=branch, name=g.name, code=g.code) for g in plan.grids])
    households = Household.objects.bulk_create(
        [
            Household(
                branch=branch, grid=grids[h.grid], code=h.code, address=h.address, villager_group=h.villager_group,
                lng=h.lng, lat=h.lat, self_built=h.self_built, floors=h.floors, built_year=h.built_year,
                last_visited_at=h.last_visited_at,
            )
            for h in plan.households
        ],
        batch_size=BATCH_SIZE,
    )
    Resident.objects.bulk_create(
        [_resident(r, household) for household, h in zip(households, plan.households) for r in h.residents],
        batch_size=BATCH_SIZE,
    )


def _resident(plan: ResidentPlan, household: Household) -> Resident:
    resident = Resident(
        household=household, name=plan.name, name_initials=initials(plan.name), gender=plan.gender,
        birth_date=plan.birth_date, relation=plan.relation, care_tags=list(plan.care_tags),
    )
    resident.set_id_number(plan.id_number)
    resident.set_phone(plan.phone)
    if plan.sensitive_tags:
        resident.set_sensitive_tags(plan.sensitive_tags)
    return resident


@lru_cache(maxsize=None)
def initials(name: str) -> str:
    return name_initials(name)  # names repeat a lot; pypinyin is the slow part of building a row
