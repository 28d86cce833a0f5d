"""Start-up times: the CLI commands staff type, and the daemon to READY and first publish.

Run from the repository root::

    .venv/bin/python -m benchmarks.startup [--quick]

CLI figures are wall times of fresh processes, the least disturbed of several
runs, against ``python -c pass`` from the same interpreter (same ``site``,
same venv) measured in between. The daemon figures start ``edge-agent run``
with ``NOTIFY_SOCKET`` pointing at a socket of ours, as systemd would, and
time ``READY=1`` and the first telemetry message a subscriber receives
(telemetry ``interval_s = 1``, so that figure includes a one-second window).
Their baseline is a process that only imports the daemon's modules.
Bytecode is compiled first, as ``pip install`` does on a real node.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import (
    PY,
    REPO,
    Figure,
    bench_config,
    broker,
    table,
    time_command,
    toml_config,
    workdir,
)

#: What ``edge-agent run`` imports before it can work (the baseline of READY).
DAEMON_IMPORTS = (
    "import edge_agent.cli.run, edge_agent.pipeline.agent, edge_agent.drivers.sim, "
    "edge_agent.rules.threshold, edge_agent.rules.fault, edge_agent.detection.checkpoint, "
    "paho.mqtt.client"
)


def daemon_start(
    config: Path, url: str, base_topic: str, timeout: float = 60
) -> tuple[float, float]:
    """Seconds from spawn to READY=1 and to the first telemetry message received."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    first: list[float] = []
    host, port = url.removeprefix("mqtt://").split(":")
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    sub.on_message = lambda c, u, m: first.append(time.perf_counter())
    sub.on_connect = lambda c, *a: c.subscribe(f"{base_topic}/telemetry/#", qos=1)
    sub.connect(host, int(port))
    sub.loop_start()
    sock_path = config.parent / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(timeout)
    time.sleep(0.3)  # subscribed
    env = {**os.environ, "NOTIFY_SOCKET": str(sock_path), "EDGE_AGENT_CLOCK_SYNCED": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-m", "edge_agent", "run", "--config", str(config), "-q"],
        cwd=str(REPO),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = None
        while ready is None:
            data = sock.recv(4096).decode()
            if "READY=1" in data.split("\n"):
                ready = time.perf_counter() - t0
        deadline = time.monotonic() + timeout
        while not first and time.monotonic() < deadline:
            time.sleep(0.005)
        if not first:
            raise RuntimeError("no telemetry arrived")
        return ready, first[0] - t0
    finally:
        proc.terminate()
        proc.wait(30)
        sub.loop_stop()
        sub.disconnect()
        sock.close()


def compile_bytecode() -> None:
    """Write .pyc files for our code, as ``pip install`` does on a node.

    An editable checkout run with PYTHONDONTWRITEBYTECODE=1 (as on this
    machine, and under the systemd unit) would otherwise compile every module
    from source at each start, which no installed node ever does.
    """
    subprocess.run(
        [PY, "-m", "compileall", "-q", "edge_agent", "drivers", "rules"],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run(quick: bool) -> list[Figure]:
    runs = 7 if quick else 21
    figures = []
    compile_bytecode()
    with broker() as url, workdir("start-") as d:
        data = bench_config(d / "state", url, 3, telemetry={"interval_s": 1.0})
        config = d / "edge-agent.toml"
        config.write_text(toml_config(data))
        # The daemon first: it also creates the store that `status` reads.
        base_topic = "edge/bench/pi"
        ready, first = daemon_start(config, url, base_topic)
        imports = time_command([PY, "-c", DAEMON_IMPORTS], 3 if quick else 5)
        cli = {
            "--version": [PY, "-m", "edge_agent", "--version"],
            "check-config": [PY, "-m", "edge_agent", "check-config", str(config)],
            "status": [PY, "-m", "edge_agent", "status", "--config", str(config)],
        }
        # Interleave each command with the baseline so both see the same machine load.
        for name, argv in cli.items():
            t_pass = time_command([PY, "-c", "pass"], runs)
            t_cmd = time_command(argv, runs)
            figures.append(
                Figure(
                    f"cli_{name.strip('-').replace('-', '_')}",
                    f"CLI start-up: edge-agent {name}",
                    t_cmd * 1000,
                    "ms",
                    "python -c pass",
                    t_pass * 1000,
                    target="< 3x",
                    target_ratio=3.0,
                )
            )
    figures.append(
        Figure(
            "daemon_ready",
            "daemon start-up to READY=1 (3 sensors)",
            ready * 1000,
            "ms",
            "import daemon modules",
            imports * 1000,
        )
    )
    figures.append(
        Figure(
            "daemon_first_publish",
            "daemon start-up to first published reading",
            first * 1000,
            "ms",
            "import daemon modules",
            imports * 1000,
            note="telemetry interval_s = 1 s is part of it",
        )
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(table(run(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
