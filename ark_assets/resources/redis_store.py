"""The Dagster resource for the seed's Redis; the behaviour lives in `clients/redis_sets.RedisSets`."""

from __future__ import annotations

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr

from ark_assets.clients.redis_sets import MAX_EXACT_SCORE, CorruptRedisKey, RedisSets
from ark_assets.resources.env import env_int, env_str

__all__ = ["MAX_EXACT_SCORE", "CorruptRedisKey", "RedisResource", "redis_resource_from_env"]


class RedisResource(ConfigurableResource):
    """The seed's Redis (db 2): access tokens, agent lists and daily account lists per tenant.

    Configuration and lifecycle only: `sets` is the plain `RedisSets` client doing the work, the
    same object the fetch engine is handed (it imports no Dagster).
    """

    host: str = Field(default="127.0.0.1", description="Redis host.")
    port: int = Field(default=6379, description="Redis port.")
    db: int = Field(default=2, description="Database number; the seed keeps everything in db 2.")
    password: str = Field(default="", description="Password; empty when Redis has none.")
    socket_timeout: float = Field(default=5.0, description="Seconds to wait for a connect or a reply.")
    channel: str = Field(
        default="",
        description="The seed's redis_channel: each finished media step publishes a JSON message "
        "on it (assets/announce.py); empty: no announcement.",
    )

    _sets: RedisSets | None = PrivateAttr(default=None)

    @property
    def sets(self) -> RedisSets:
        """This process's client (created on first use)."""
        if self._sets is None:
            self._sets = RedisSets(
                host=self.host,
                port=self.port,
                db=self.db,
                password=self.password,
                socket_timeout=self.socket_timeout,
            )
        return self._sets

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._sets is not None:
            self._sets.close()
            self._sets = None


def redis_resource_from_env() -> RedisResource:
    """The resource configured by ARK_REDIS_HOST/PORT/DB/PASSWORD/CHANNEL, loopback defaults otherwise.

    Set variables arrive as `EnvVar`s that Dagster resolves at run time; outside Dagster call
    `.process_config_and_initialize()` on the result first.
    """
    return RedisResource(
        host=env_str("ARK_REDIS_HOST", "127.0.0.1"),
        port=env_int("ARK_REDIS_PORT", 6379),
        db=env_int("ARK_REDIS_DB", 2),
        password=env_str("ARK_REDIS_PASSWORD", ""),
        channel=env_str("ARK_REDIS_CHANNEL", ""),
    )
