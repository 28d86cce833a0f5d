"""edge_agent.text."""
