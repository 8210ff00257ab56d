"""The agents asset of a media: its active `eton` agents joined with their Redis tokens.

Also rewrites the seed's agent key, so the legacy jobs and the account-list sensor see the
same agents; a tiered media gets one asset per tier.
"""

from collections.abc import Mapping

from ark_assets.assets.parts import Part, PartResult, StepContext
from ark_assets.assets.specs import asset_spec
from ark_assets.core.tables import table_name
from ark_assets.io.coverage import Coverage
from ark_assets.io.rows import Row, RowSpool
from ark_assets.media.declare import AgentList, MediaDefinition


def agents_part(media: MediaDefinition, declared: AgentList) -> Part:
    tier = declared.tier
    spec = asset_spec(
        media,
        declared.name,
        declared.dataset,
        kind=True,
        suffix=False,
        layer="agents",
        description=f"Active {media.name} agents (auth_status 1/2, auth_type 1) of the tenant"
        + (f", {tier} tier" if tier else "")
        + ", joined with whether Redis holds their access token. Also rewrites the seed's agent key.",
    )

    def work(step: StepContext, upstream: Mapping[str, PartResult]) -> PartResult:
        agents = [
            a
            for a in step.mysql.active_agents(step.tenant, media)
            if tier is None or a.level == tier.eton_level
        ]
        tokens = step.redis.sets.tokens(media, step.tenant)
        step.redis.sets.write_agents(media, step.tenant, [a.agent_id for a in agents], tier=tier)
        # eton is the source of record of a tenant's agents: its answer covers the whole partition
        spool = RowSpool.create(
            table_name(media.name, declared.dataset), step.day, step.tenant, covered=Coverage.everything()
        )
        kind = str(tier or "agent")
        rows = []
        for agent in agents:
            data = {
                "agent_id": agent.agent_id,
                "name": agent.name,
                "level": agent.level,
                "parent_agent_id": agent.parent_agent_id,
                "has_token": agent.agent_id in tokens,
            }
            row = Row(agent.agent_id, agent.parent_agent_id or agent.agent_id, data, kind=kind)
            spool.write(row)
            rows.append(row)
        without_token = [a.agent_id for a in agents if a.agent_id not in tokens]
        metadata = {
            "agents": len(agents),
            "agents_without_token": len(without_token),
            "without_token": ", ".join(without_token[:50]),
        }
        return PartResult(spool=spool, metadata=metadata, rows=rows)

    return Part(name=declared.name, spec=spec, upstream=(), fetches=False, work=work)
