"""edge_agent.store."""
