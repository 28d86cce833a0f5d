"""Rule kinds and rule packs, installed as ``edge_agent.rules``.

Rule kinds (``threshold``, ...) are Python classes registered by name in the
``edge_agent.rule_kinds`` entry-point group; rule packs (``smoke.toml``, ...)
are TOML files in this folder whose ``[[kind]]`` tables name those kinds.
"""
