"""edge_agent.mqtt."""
