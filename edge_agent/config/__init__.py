"""edge_agent.config."""
