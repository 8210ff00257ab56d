"""The simulated media's data: entities, metrics and funds, pure functions of the config and ids.

Who exists (agents, accounts per tenant) comes from `profiles`. What an account holds depends only
on (seed, media, account id): campaigns -> adgroups -> ads, and hourly metric "atoms" per
(ad, date, hour, site set, time line). Every report at every level is a grouping of those atoms,
so levels, daily and hourly reports and the jrtt agent report always add up to the same totals.

Late revisions: a date younger than `revision_days` has its money and count metrics scaled down by
a factor that reaches 1.0 when the date is `revision_days` old, so fetching again later gives
different, final numbers; which rows exist never depends on the factor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ark_assets.media import Media
from ark_assets.resources.redis_keys import AgentTier, tenant_alias
from ark_sim.config import SimConfig
from ark_sim.profiles import Account, Agent, Roster, build_roster, company_name, stable_hash, unit
from ark_sim.tokens import mint_token

TIME_LINES = ("REQUEST_TIME", "REPORTING_TIME", "ACTIVE_TIME")
# The scale of a date `age` days old is 1 - REVISION_DEPTH * (revision_days - age) / revision_days.
REVISION_DEPTH = 0.3

_SITE_SETS = {
    Media.GDT: (
        "SITE_SET_QZONE",
        "SITE_SET_QQCLIENT",
        "SITE_SET_MOBILE_UNION",
        "SITE_SET_TENCENT_NEWS",
        "SITE_SET_TENCENT_VIDEO",
    ),
    Media.WX: ("SITE_SET_WECHAT", "SITE_SET_MOMENTS"),
    Media.JRTT: ("INVENTORY_FEED",),
}
_PROMOTED_OBJECT_TYPES = {
    Media.GDT: (
        "PROMOTED_OBJECT_TYPE_APP_ANDROID",
        "PROMOTED_OBJECT_TYPE_APP_IOS",
        "PROMOTED_OBJECT_TYPE_LINK",
        "PROMOTED_OBJECT_TYPE_ECOMMERCE",
    ),
    Media.WX: (
        "PROMOTED_OBJECT_TYPE_LINK_WECHAT",
        "PROMOTED_OBJECT_TYPE_APP_ANDROID",
        "PROMOTED_OBJECT_TYPE_APP_IOS",
    ),
    Media.JRTT: ("APP",),
}
_FUND_TYPES = {
    Media.GDT: ("FUND_TYPE_CASH", "FUND_TYPE_GIFT", "FUND_TYPE_SHARED"),
    Media.WX: ("FUND_TYPE_CASH", "FUND_TYPE_GIFT", "FUND_TYPE_CREDIT_ROLL"),
}
_INDUSTRIES = (
    ("教育", "在线教育"),
    ("游戏", "休闲游戏"),
    ("电商", "综合电商"),
    ("金融", "保险"),
    ("汽车", "汽车厂商"),
    ("旅游", "在线旅游"),
    ("医疗健康", "医疗器械"),
    ("本地生活", "餐饮"),
)
# Tencent ids of entities inside an account; jrtt uses int64 ids for everything.
_TENCENT_ENTITY_IDS = {
    "campaign": (10_000_000, 99_999_999),
    "adgroup": (100_000_000, 9_999_999_999),
    "ad": (100_000_000, 9_999_999_999),
}
_JRTT_ENTITY_IDS = (1_600_000_000_000_000_000, 1_800_000_000_000_000_000)


class Atom(NamedTuple):
    """The finest metric grain: one ad, one hour, one site set, one time line."""

    date: str
    hour: int
    campaign_id: int
    adgroup_id: int
    ad_id: int
    site_set: str
    promoted_object_type: str
    promoted_object_id: str
    impression: int
    click: int
    cost: int  # fen
    conversion: int
    download: int
    activation: int


METRICS = ("impression", "click", "cost", "conversion", "download", "activation")


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Adgroup:
    adgroup_id: int
    campaign_id: int
    name: str
    site_sets: tuple[str, ...]
    promoted_object_type: str
    promoted_object_id: str


@dataclass(frozen=True, slots=True)
class Ad:
    ad_id: int
    adgroup_id: int
    campaign_id: int
    name: str


@dataclass(frozen=True)
class Entities:
    """An account's ad hierarchy (jrtt calls adgroups "ads" and ads "creatives")."""

    campaigns: tuple[Campaign, ...]
    adgroups: tuple[Adgroup, ...]
    ads: tuple[Ad, ...]

    def names(self) -> dict[tuple[str, int], str]:
        """(kind, id) -> name, for rows that show entity names."""
        result = {("campaign_id", c.campaign_id): c.name for c in self.campaigns}
        result.update({("adgroup_id", g.adgroup_id): g.name for g in self.adgroups})
        result.update({("ad_id", a.ad_id): a.name for a in self.ads})
        return result


@dataclass(frozen=True)
class AccountInfo:
    """An account's static attributes (the same in every report and listing)."""

    media: Media
    account_id: int
    name: str  # the account's name (jrtt `name`): its company plus a short code
    company: str  # the company (gdt `corporation_name`, jrtt `company`)
    system_status: str  # gdt/wx: CUSTOMER_STATUS_*
    status: str  # jrtt: STATUS_*
    daily_budget: int  # fen, 0 = unlimited
    industry_id: int
    first_industry_name: str
    second_industry_name: str
    create_time: str
    email: str
    wechat_account_id: str


class World:
    """Every tenant's world under one config; tenants are built on first use and cached.

    Args:
        config: the simulator config (profile, seed, revision days, clock).
        today: the simulator's today; default the config's pinned date or the real date in its
            time zone. The server passes its mutable clock so `/admin/clock` can move it.
    """

    def __init__(self, config: SimConfig, today: Callable[[], date] | None = None) -> None:
        self.config = config
        self.seed = config.seed
        self.profile = config.sizes
        self._today = today or default_today(config)
        self._rosters: dict[str, Roster] = {}
        self._lock = threading.Lock()
        self._entities = lru_cache(maxsize=65536)(self._build_entities)
        self._atoms = lru_cache(maxsize=8192)(self._build_atoms)
        self._scopes: dict[tuple[str, int], frozenset[int]] = {}

    # -- time ---------------------------------------------------------------------------------------

    def today(self) -> date:
        return self._today()

    def revision_factor(self, day: date) -> float:
        """1.0 for final dates; below 1.0 for dates younger than `revision_days`."""
        days = self.config.revision_days
        age = (self.today() - day).days
        if days <= 0 or age >= days:
            return 1.0
        return 1.0 - REVISION_DEPTH * (days - max(age, 0)) / days

    # -- who exists ---------------------------------------------------------------------------------

    def roster(self, tenant: str) -> Roster:
        tenant = tenant_alias(tenant)
        with self._lock:
            roster = self._rosters.get(tenant)
            if roster is None:
                roster = self._rosters[tenant] = build_roster(self.profile, self.seed, tenant)
            return roster

    def loaded_tenants(self) -> list[str]:
        with self._lock:
            return sorted(self._rosters)

    def agents(
        self, media: Media | str, tenant: str, *, active_only: bool = True, tier: AgentTier | None = None
    ) -> list[Agent]:
        """A tenant's agents at `media` (jrtt: optionally one tier), active ones only by default."""
        roster = self.roster(tenant).media[Media.parse(media)]
        return [
            a for a in roster.agents if (a.active or not active_only) and (tier is None or a.tier is tier)
        ]

    def accounts(
        self,
        media: Media | str,
        tenant: str,
        *,
        active_only: bool = True,
        tier: AgentTier | None = None,
        agent_id: int | None = None,
    ) -> list[tuple[int, int]]:
        """(account_id, agent_id) of a tenant's accounts at `media`, agent by agent.

        Only active agents' accounts by default (what the platform must fetch); jrtt `tier` FIRST
        gives first-tier agents' direct accounts, SECOND the second-tier agents' accounts.
        """
        media = Media.parse(media)
        roster = self.roster(tenant).media[media]
        result = []
        for agent in self.agents(media, tenant, active_only=active_only, tier=tier):
            if agent_id is None or agent.agent_id == agent_id:
                result.extend((a.account_id, a.agent_id) for a in roster.accounts_by_agent[agent.agent_id])
        return result

    def account_count(self, media: Media | str, tenant: str) -> int:
        """How many accounts the platform should find for a tenant at `media` (active agents only)."""
        return len(self.accounts(media, tenant))

    def find_account(self, media: Media, tenant: str, account_id: int) -> Account | None:
        return self.roster(tenant).media[media].account_by_id.get(account_id)

    def find_agent(self, media: Media, tenant: str, agent_id: int) -> Agent | None:
        return self.roster(tenant).media[media].agent_by_id.get(agent_id)

    def agent_accounts(self, media: Media, tenant: str, agent_id: int) -> list[Account]:
        """An agent's own accounts (jrtt first tier: its direct accounts only), sorted by id."""
        roster = self.roster(tenant).media[media]
        return sorted(roster.accounts_by_agent.get(agent_id, []), key=lambda a: a.account_id)

    def child_agents(self, tenant: str, agent_id: int) -> list[Agent]:
        """A jrtt first-tier agent's second-tier agents, sorted by id."""
        children = self.roster(tenant).media[Media.JRTT].children.get(agent_id, [])
        return sorted(children, key=lambda a: a.agent_id)

    def jrtt_scope(self, tenant: str, agent_id: int) -> frozenset[int]:
        """The ids a jrtt agent's token may touch: itself and its accounts; a first-tier agent's
        token also covers its second-tier agents and their accounts."""
        key = (tenant, agent_id)
        with self._lock:
            cached = self._scopes.get(key)
        if cached is not None:
            return cached
        roster = self.roster(tenant).media[Media.JRTT]
        scope = {agent_id, *(a.account_id for a in roster.accounts_by_agent.get(agent_id, []))}
        for child in roster.children.get(agent_id, []):
            scope.add(child.agent_id)
            scope.update(a.account_id for a in roster.accounts_by_agent[child.agent_id])
        frozen = frozenset(scope)
        with self._lock:
            self._scopes[key] = frozen
        return frozen

    def initial_tokens(self, media: Media | str, tenant: str) -> dict[int, tuple[str, str]]:
        """agent id -> (access token, refresh token) as issued at start, for every agent."""
        media = Media.parse(media)
        tenant = tenant_alias(tenant)
        return {
            a.agent_id: (
                mint_token(self.seed, media, tenant, a.agent_id, "access", 0),
                mint_token(self.seed, media, tenant, a.agent_id, "refresh", 0),
            )
            for a in self.agents(media, tenant, active_only=False)
        }

    # -- what an account holds ----------------------------------------------------------------------

    def account_info(self, media: Media | str, account_id: int) -> AccountInfo:
        media = Media.parse(media)
        h = stable_hash(self.seed, media, account_id, "info")
        first, second = _INDUSTRIES[h % len(_INDUSTRIES)]
        roll = (h >> 8) % 100
        created = datetime(2016, 1, 1) + timedelta(seconds=(h >> 16) % (4 * 365 * 86400))
        company = company_name(self.seed, media, account_id)
        code = f"{'abcdefghkmnpqrstwxyz'[(h >> 24) % 20]}{'lmnrstxyz'[(h >> 28) % 9]}{(h >> 32) % 10}"
        return AccountInfo(
            media=media,
            account_id=account_id,
            name=company + code,
            company=company,
            system_status=(
                "CUSTOMER_STATUS_NORMAL"
                if roll < 92
                else ("CUSTOMER_STATUS_FROZEN", "CUSTOMER_STATUS_SUSPEND", "CUSTOMER_STATUS_PENDING")[
                    roll % 3
                ]
            ),
            status="STATUS_ENABLE" if roll < 94 else ("STATUS_DISABLE", "STATUS_PENDING_VERIFIED")[roll % 2],
            daily_budget=0 if roll % 4 == 0 else 50_000 * (1 + (h >> 40) % 200),
            industry_id=21474836000 + h % 1000,
            first_industry_name=first,
            second_industry_name=second,
            create_time=created.strftime("%Y-%m-%d %H:%M:%S"),
            email=f"{'abcdefghkmnpqrstwxyz'[h % 20]}******{(h >> 5) % 10}@{'qs1y'[(h >> 9) % 4]}*******.com",
            wechat_account_id=f"gh_{h & 0xFFFFFFFFFFFF:012x}",
        )

    def entities(self, media: Media | str, account_id: int) -> Entities:
        return self._entities(Media.parse(media), account_id)

    def spends(self, media: Media | str, account_id: int, day: date) -> bool:
        """Whether the account had spend that day (about 1 - no_spend_rate of accounts do)."""
        return unit(self.seed, Media.parse(media), account_id, day, "spend") >= self.profile.no_spend_rate

    def atoms(
        self, media: Media | str, account_id: int, day: date, time_line: str = "REQUEST_TIME"
    ) -> list[Atom]:
        """The account's hourly metric atoms for a day (empty for no-spend days and future dates)."""
        if day > self.today():
            return []
        return self._atoms(Media.parse(media), account_id, day, time_line, self.revision_factor(day))

    def daily_totals(self, media: Media | str, account_id: int, day: date) -> dict[str, int]:
        """The account's metric totals for a day (REQUEST_TIME), all zero on no-spend days."""
        totals = dict.fromkeys(METRICS, 0)
        for atom in self.atoms(media, account_id, day):
            for metric in METRICS:
                totals[metric] += getattr(atom, metric)
        return totals

    # -- funds --------------------------------------------------------------------------------------

    def funds(self, media: Media | str, account_id: int, day: date | None = None) -> list[dict]:
        """gdt/wx `funds/get` records of an account: 1-3 fund types, `realtime_cost` = that day's spend."""
        media = Media.parse(media)
        day = day or self.today()
        types = _FUND_TYPES[media]
        count = 1 + stable_hash(self.seed, media, account_id, "fund-count") % len(types)
        spend = self.daily_totals(media, account_id, day)["cost"]
        records = []
        for fund_type in types[:count]:
            h = stable_hash(self.seed, media, account_id, fund_type, day, "fund")
            if fund_type == "FUND_TYPE_CASH":
                balance = h % 5_000_000
            else:
                balance = 0 if h % 10 < 4 else (h >> 8) % 500_000
            roll = (h >> 32) % 100
            status = "FUND_STATUS_FROZEN" if roll < 2 else "FUND_STATUS_NORMAL"
            if balance < 10_000 and status == "FUND_STATUS_NORMAL":
                status = "FUND_STATUS_NOT_ENOUGH"
            record = {
                "fund_type": fund_type,
                "balance": balance,
                "fund_status": status,
                "realtime_cost": spend if fund_type == "FUND_TYPE_CASH" else 0,
            }
            if fund_type == "FUND_TYPE_CREDIT_ROLL":
                limit = 1_000_000 * (1 + (h >> 40) % 5)
                used = (h >> 20) % limit
                record["credit_roll_spec"] = {
                    "limit_amount": limit,
                    "usable_amount": limit - used,
                    "used_amount": used,
                }
            records.append(record)
        return records

    def agency_funds(self, media: Media | str, agent_id: int, day: date | None = None) -> list[dict]:
        """gdt/wx `funds/get` on an agency's own id: one cash record."""
        media = Media.parse(media)
        h = stable_hash(self.seed, media, agent_id, day or self.today(), "agency-fund")
        return [
            {
                "fund_type": "FUND_TYPE_CASH",
                "balance": 100_000_000 + h % 900_000_000,
                "fund_status": "FUND_STATUS_NORMAL",
                "realtime_cost": 0,
            }
        ]

    def jrtt_fund(self, advertiser_id: int, day: date | None = None, *, name: str | None = None) -> dict:
        """jrtt `advertiser/fund/get` data of an advertiser or agent (pass its `name`), floats in yuan."""
        day = day or self.today()
        h = stable_hash(self.seed, Media.JRTT, advertiser_id, day, "fund")
        info = self.account_info(Media.JRTT, advertiser_id)
        cash = (h % 10_000_000) / 100
        grant = 0.0 if h % 3 == 0 else ((h >> 24) % 200_000) / 100
        frozen = 0.0 if (h >> 8) % 4 else min(cash, ((h >> 40) % 50_000) / 100)
        returned = 0.0 if (h >> 12) % 10 else ((h >> 48) % 10_000) / 100
        return {
            "advertiser_id": advertiser_id,
            "name": name or info.name,
            "email": info.email,
            "balance": round(cash + grant + returned, 2),
            "valid_balance": round(cash - frozen + grant + returned, 2),
            "cash": round(cash, 2),
            "valid_cash": round(cash - frozen, 2),
            "grant": round(grant, 2),
            "valid_grant": round(grant, 2),
            "return_goods_abs": round(returned, 2),
            "valid_return_goods_abs": round(returned, 2),
            "return_goods_cost": 0.0,
        }

    def funds_records(self, media: Media | str, account_id: int, day: date | None = None) -> int:
        """How many records a funds call returns for the account (gdt/wx `funds/get`: 1-3; jrtt: 1)."""
        media = Media.parse(media)
        if media is Media.JRTT:
            return 1
        return len(self.funds(media, account_id, day))

    # -- builders (cached) --------------------------------------------------------------------------

    def _build_entities(self, media: Media, account_id: int) -> Entities:
        sizes = self.profile.entities
        used: set[int] = set()

        def draw(kind: str, *key: object) -> int:
            low, high = _JRTT_ENTITY_IDS if media is Media.JRTT else _TENCENT_ENTITY_IDS[kind]
            salt = 0
            while True:
                value = low + stable_hash(self.seed, media, account_id, kind, *key, salt) % (high - low + 1)
                if value not in used:
                    used.add(value)
                    return value
                salt += 1

        def count(bounds: tuple[int, int], *key: object) -> int:
            low, high = bounds
            return low + stable_hash(self.seed, media, account_id, "count", *key) % (high - low + 1)

        campaigns, adgroups, ads = [], [], []
        for c in range(count(sizes.campaigns, "campaigns")):
            campaign_id = draw("campaign", c)
            campaigns.append(Campaign(campaign_id, f"计划{c + 1}-{campaign_id % 10000:04d}"))
            for g in range(count(sizes.adgroups, "adgroups", c)):
                adgroup_id = draw("adgroup", c, g)
                site_pool = _SITE_SETS[media]
                start = stable_hash(self.seed, media, adgroup_id, "sites")
                n_sites = 1 + start % min(2, len(site_pool))
                site_sets = tuple(sorted(site_pool[(start + k) % len(site_pool)] for k in range(n_sites)))
                po_type = _PROMOTED_OBJECT_TYPES[media][start % len(_PROMOTED_OBJECT_TYPES[media])]
                adgroups.append(
                    Adgroup(
                        adgroup_id,
                        campaign_id,
                        f"广告组{c + 1}-{g + 1}",
                        site_sets,
                        po_type,
                        str(1_100_000_000 + (start >> 16) % 900_000_000),
                    )
                )
                for a in range(count(sizes.ads, "ads", c, g)):
                    ad_id = draw("ad", c, g, a)
                    ads.append(Ad(ad_id, adgroup_id, campaign_id, f"广告{c + 1}-{g + 1}-{a + 1}"))
        return Entities(tuple(campaigns), tuple(adgroups), tuple(ads))

    def _build_atoms(
        self, media: Media, account_id: int, day: date, time_line: str, factor: float
    ) -> list[Atom]:
        if not self.spends(media, account_id, day):
            return []
        entities = self.entities(media, account_id)
        groups = {g.adgroup_id: g for g in entities.adgroups}
        hours_per_ad = self.profile.entities.active_hours
        text_day = day.isoformat()
        atoms = []
        for ad in entities.ads:
            group = groups[ad.adgroup_id]
            hours = sorted(
                sorted(
                    range(24), key=lambda hour: stable_hash(self.seed, media, ad.ad_id, day, "hour", hour)
                )[:hours_per_ad]
            )
            for hour in hours:
                for site_set in group.site_sets:
                    base = stable_hash(self.seed, media, ad.ad_id, day, hour, site_set)
                    impression = 50 + base % 3000
                    ctr = 0.005 + ((base >> 16) % 1000) / 1000 * 0.045
                    click = max(1, int(impression * ctr))
                    cost = max(100, click * (30 + (base >> 32) % 270))
                    tl = stable_hash(self.seed, media, ad.ad_id, day, hour, site_set, time_line)
                    conversion = int(click * (0.02 + (tl % 1000) / 1000 * 0.13))
                    download = int(click * (0.05 + ((tl >> 16) % 1000) / 1000 * 0.2))
                    activation = int(download * (0.3 + ((tl >> 32) % 1000) / 1000 * 0.5))
                    atoms.append(
                        Atom(
                            text_day,
                            hour,
                            ad.campaign_id,
                            ad.adgroup_id,
                            ad.ad_id,
                            site_set,
                            group.promoted_object_type,
                            group.promoted_object_id,
                            int(impression * factor),
                            int(click * factor),
                            int(cost * factor),
                            int(conversion * factor),
                            int(download * factor),
                            int(activation * factor),
                        )
                    )
        return atoms


def default_today(config: SimConfig) -> Callable[[], date]:
    """The config's pinned date, or a function giving the real date in the config's time zone."""
    pinned = config.clock.today
    if pinned is not None:
        return lambda: pinned
    zone = ZoneInfo(config.clock.timezone)
    return lambda: datetime.now(zone).date()
