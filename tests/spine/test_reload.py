"""The `reload` command: config and rule packs re-read without losing alert state."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from edge_agent.config.load import load_config
from edge_agent.pipeline.agent import Agent
from tests.agent_helpers import sim_config, until, write_config
from tests.broker import Broker

pytestmark = pytest.mark.timeout(120)


def test_reload_applies_new_sensors_and_rules_and_keeps_open_alerts(
    tmp_path: Path, broker: Broker
) -> None:
    state = tmp_path / "state"
    path = write_config(
        tmp_path / "agent.toml",
        sim_config(
            state,
            broker.url,
            cycle_s=60,
            interval_s=0.2,
            raise_after_s=0.5,
            clear_after_s=60,
            device="reload-pi",
        ),
    )

    async def scenario() -> None:
        agent = Agent(load_config(path))
        await agent.start()
        try:
            await until(lambda: agent.book.open_alerts(), 40, "an open smoke alert")
            alert_id = agent.book.open_alerts()[0].alert_id

            # A broken edit is refused and changes nothing.
            good = path.read_text()
            path.write_text(good.replace('rules = "smoke"', 'rules = "smok"'))
            outcome, detail = await agent.handle_command("reload", b'{"by": "ops"}')
            assert outcome == "error" and "no rule pack 'smok'" in detail
            assert set(agent.drivers) == {"smoke-1"}

            # A good edit: a second sensor and a new clear delay, applied at once.
            path.write_text(
                good.replace("clear_after_s = 60", "clear_after_s = 45")
                + good[good.index("[[sensors]]") :].replace('id = "smoke-1"', 'id = "smoke-2"')
            )
            outcome, detail = await agent.handle_command("reload", b'{"by": "ops"}')
            assert outcome == "ok", detail
            assert "added ['smoke-2']" in detail and "alert state kept" in detail
            assert set(agent.drivers) == {"smoke-1", "smoke-2"}
            assert (
                agent.book.machine(
                    "smoke-1", agent.book.open_alerts()[0].hazard
                ).timing.clear_after_s
                == 45
            )
            assert [a.alert_id for a in agent.book.open_alerts() if a.sensor_id == "smoke-1"] == [
                alert_id
            ]
            await until(
                lambda: agent.drivers["smoke-2"].stats().frames_ok > 3, 10, "the new sensor reading"
            )
        finally:
            await agent.stop()

    asyncio.run(scenario())
