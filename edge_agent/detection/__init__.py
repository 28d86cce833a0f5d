"""edge_agent.detection."""
