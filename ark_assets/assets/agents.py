"""The agents asset of a media: its active `eton` agents joined with their Redis tokens.

Also rewrites the seed's agent key, so the legacy jobs and the account-list sensor see the
same agents; a tiered media gets one asset per tier.
"""

from dagster import AssetExecutionContext, AssetsDefinition, Output, asset

from ark_assets.assets.specs import asset_kwargs
from ark_assets.core.tables import table_name
from ark_assets.io.rows import Row, RowSpool
from ark_assets.media.declare import AgentList, MediaDefinition
from ark_assets.partitions import split_key
from ark_assets.resources.mysql import MySQLResource
from ark_assets.resources.redis_store import RedisResource


def agents_asset(media: MediaDefinition, declared: AgentList) -> AssetsDefinition:
    tier = declared.tier

    @asset(
        **asset_kwargs(media, declared.name, declared.dataset, kind=True, suffix=False, layer="agents"),
        description=f"Active {media.name} agents (auth_status 1/2, auth_type 1) of the tenant"
        + (f", {tier} tier" if tier else "")
        + ", joined with whether Redis holds their access token. Also rewrites the seed's agent key.",
    )
    def _agents(
        context: AssetExecutionContext, mysql: MySQLResource, redis: RedisResource
    ) -> Output[RowSpool]:
        day, tenant = split_key(context.partition_key)
        agents = [a for a in mysql.active_agents(tenant, media) if tier is None or a.level == tier.eton_level]
        tokens = redis.sets.tokens(media, tenant)
        redis.sets.write_agents(media, tenant, [a.agent_id for a in agents], tier=tier)
        spool = RowSpool.create(table_name(media.name, declared.dataset), day, tenant)
        kind = str(tier or "agent")
        for agent in agents:
            data = {
                "agent_id": agent.agent_id,
                "name": agent.name,
                "level": agent.level,
                "parent_agent_id": agent.parent_agent_id,
                "has_token": agent.agent_id in tokens,
            }
            spool.write(Row(agent.agent_id, agent.parent_agent_id or agent.agent_id, data, kind=kind))
        without_token = [a.agent_id for a in agents if a.agent_id not in tokens]
        return Output(
            spool,
            metadata={
                "agents": len(agents),
                "agents_without_token": len(without_token),
                "without_token": ", ".join(without_token[:50]),
            },
        )

    return _agents
