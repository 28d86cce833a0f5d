"""Sensor drivers, installed as ``edge_agent.drivers``.

Each driver is one module registered by name in the ``edge_agent.drivers``
entry-point group (see ``pyproject.toml``); the sensor table's ``driver`` key
names it. :mod:`edge_agent.drivers.base` is the contract every driver meets.
"""
