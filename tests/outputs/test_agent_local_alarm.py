"""The real agent drives a buzzer on MockFactory pins with no broker at all.

The buzzer goes high at orange while the broker is unreachable, stays high
until silenced (by the `silence` command path or the local button), and the
silence expires on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge_agent.config.load import parse_config
from edge_agent.pipeline.agent import Agent
from tests.agent_helpers import sim_config, until
from tests.broker import free_port

BUZZER, BUTTON = 17, 27

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.reset()


def test_buzzer_sounds_at_orange_with_the_broker_down_until_silenced(
    tmp_path: Path, factory: MockFactory
) -> None:
    outputs = f"""
[[outputs]]
kind = "buzzer"
pin = {BUZZER}
min_level = "orange"
max_silence_s = 5

[[outputs]]
kind = "button"
pin = {BUTTON}
silence_s = 5
"""
    # Nothing listens on this port: the agent runs with no broker at all.
    text = sim_config(
        tmp_path / "state",
        f"mqtt://127.0.0.1:{free_port()}",
        cycle_s=40,
        interval_s=0.2,
        raise_after_s=0.5,
        clear_after_s=30,
        extra=outputs,
    )
    config = parse_config(text)
    buzzer = factory.pin(BUZZER)

    async def scenario() -> None:
        agent = Agent(config, pin_factory=factory)
        await agent.start()
        try:
            assert not buzzer.state
            await until(
                lambda: agent.book.levels() and max(agent.book.levels().values()) >= 3,
                40,
                "an orange alert",
            )
            await until(lambda: bool(buzzer.state), 2, "the buzzer")
            assert agent.publisher is not None and not agent.publisher.connected
            await asyncio.sleep(1.0)
            assert buzzer.state, "stays high until silenced"

            # The silence command path (what {base}/cmd/silence reaches): capped at 5 s.
            outcome, detail = await agent.handle_command(
                "silence", b'{"by": "Wang", "duration_s": 3600}'
            )
            assert outcome == "ok" and "5 s" in detail and "capped" in detail
            await until(lambda: not buzzer.state, 1, "the buzzer to stop")
            await until(lambda: bool(buzzer.state), 8, "the silence to expire")

            # The local button: press it and the buzzer stops for its silence_s.
            factory.pin(BUTTON).drive_low()
            await until(lambda: not buzzer.state, 1, "the button to silence")
            factory.pin(BUTTON).drive_high()
            await until(lambda: bool(buzzer.state), 8, "the button silence to expire")
        finally:
            await agent.stop()

    asyncio.run(scenario())
