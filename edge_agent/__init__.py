"""edge-agent: a community hazard early-warning node.

Kept import-light on purpose: ``edge-agent --version`` and ``check-config``
must start fast on a Raspberry Pi, so nothing heavy (river, numpy, paho,
gpiozero, pymodbus) is imported here.
"""

__version__ = "0.1.0"
