"""The simulator's mutable state: clock, world, tokens, quotas, row quotas, faults, nonces and counters."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ark_sim.config import SimConfig
from ark_sim.faults import FaultInjector
from ark_sim.quota import QuotaBook
from ark_sim.rows import RowQuotas
from ark_sim.tasks import TaskBook
from ark_sim.tokens import Grant, TokenState, TokenStore, tenant_of_token
from ark_sim.world import World


class Clock:
    """The simulator's today (pinnable, also at run time) and wall-clock time."""

    def __init__(self, config: SimConfig) -> None:
        self._zone = ZoneInfo(config.clock.timezone)
        self._pinned = config.clock.today
        self._lock = threading.Lock()

    def today(self) -> date:
        """The data's today: the pinned date, else the real date in the configured time zone."""
        with self._lock:
            pinned = self._pinned
        return pinned if pinned is not None else self.wall_date()

    def wall_date(self) -> date:
        """The real date in the configured time zone (daily quotas reset on it)."""
        return datetime.now(self._zone).date()

    def pin(self, day: date | None) -> None:
        with self._lock:
            self._pinned = day

    @staticmethod
    def now() -> float:
        return time.time()


class Nonces:
    """gdt/wx nonces seen in the last `ttl` seconds, per media (thread-safe)."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def use(self, media: str, nonce: str, now: float) -> bool:
        """Record a nonce; False when it was already used within the window."""
        with self._lock:
            if now >= self._next_prune:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
                self._next_prune = now + max(1.0, self._ttl / 10)
            expires = self._seen.get((media, nonce))
            if expires is not None and expires > now:
                return False
            self._seen[(media, nonce)] = now + self._ttl
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


class Counters:
    """Requests per (media endpoint, outcome), throttles per endpoint, and the total (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, Counter[str]] = {}
        self._throttles: Counter[str] = Counter()
        self._total = 0

    def record(self, media: str, endpoint: str, outcome: str, *, throttled: bool = False) -> None:
        key = f"{media} {endpoint}"
        with self._lock:
            self._requests.setdefault(key, Counter())[outcome] += 1
            if throttled:
                self._throttles[key] += 1
            self._total += 1

    def snapshot(self) -> dict:
        """`{"requests": {"gdt funds/get": {"0": n, "11017": m, ...}}, "throttles": {...}, "total": n}`."""
        with self._lock:
            return {
                "requests": {k: dict(sorted(v.items())) for k, v in sorted(self._requests.items())},
                "throttles": dict(sorted(self._throttles.items())),
                "total": self._total,
            }

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._throttles.clear()
            self._total = 0


class SimState:
    """Everything a request may read or change; one per running simulator."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = Clock(config)
        self.world = World(config, today=self.clock.today)
        self.tokens = TokenStore(
            config.seed, {m: (c.tokens.access_ttl_s, c.tokens.refresh_ttl_s) for m, c in config.media.items()}
        )
        self.quotas = QuotaBook(config, today=self.clock.wall_date)
        self.rows = RowQuotas(lambda media: config.media[media].rows)
        self.tasks = TaskBook(lambda media: config.media[media].async_reports, config.fault_seed)
        self.faults = FaultInjector(config)
        self.nonces = Nonces(config.nonce_ttl_s)
        self.counters = Counters()
        self._loaded: set[str] = set()
        self._lock = threading.Lock()

    def app_id(self, media: str) -> int:
        return self.config.media[media].app.app_id

    def load_tenant(self, tenant: str) -> None:
        """Build the tenant's world and issue its agents' initial tokens (once per tenant)."""
        with self._lock:
            if tenant in self._loaded:
                return
            self._loaded.add(tenant)
        for media in self.config.media:
            agents = self.world.agents(media, tenant, active_only=False)
            self.tokens.register(media, tenant, [a.agent_id for a in agents])

    def access(self, media: str, token: str) -> tuple[TokenState, Grant | None]:
        """The grant behind an access token, loading its tenant on first sight."""
        state, grant = self.tokens.check_access(media, token)
        if state is TokenState.UNKNOWN and self._load_for(token):
            state, grant = self.tokens.check_access(media, token)
        return state, grant

    def refresh(self, media: str, refresh_token: str) -> tuple[TokenState, Grant | None]:
        """Rotate the pair behind a refresh token (the access token only, when the media's config
        says a refresh answer carries no refresh token), loading its tenant on first sight."""
        if not self.tokens.knows_refresh(media, refresh_token):
            self._load_for(refresh_token)
        rotate = self.config.media[media].tokens.refresh_answer_token
        return self.tokens.refresh(media, refresh_token, rotate_refresh=rotate)

    def expire_tokens(
        self, media: str, tenant: str, agent_id: int | None = None, *, refresh: bool = False
    ) -> int:
        self.load_tenant(tenant)
        return self.tokens.expire(media, tenant, agent_id, refresh=refresh)

    def reset(self, *, tokens: bool = False) -> None:
        """Counters, quota buckets, blocks and nonces back to the start (and tokens when asked)."""
        self.counters.clear()
        self.quotas.reset()
        self.rows.clear()
        self.tasks.clear()
        self.nonces.clear()
        self.faults.reseed()
        if tokens:
            with self._lock:
                self._loaded.clear()
            self.tokens.clear()

    def _load_for(self, token: str) -> bool:
        tenant = tenant_of_token(token)
        if tenant is None:
            return False
        with self._lock:
            if tenant in self._loaded:
                return False
        self.load_tenant(tenant)
        return True
