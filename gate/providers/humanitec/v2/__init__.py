"""Humanitec Platform Orchestrator v2 deployments: the plugin, the reader (the API calls),
the rollback and the history."""
