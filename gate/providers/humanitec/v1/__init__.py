"""Humanitec Platform Orchestrator v1 deployments: the plugin, the reader (the API calls),
the pipeline runs and workload readiness it follows, and the rollback."""
