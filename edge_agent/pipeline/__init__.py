"""edge_agent.pipeline."""
