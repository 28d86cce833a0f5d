"""edge_agent.outputs."""
