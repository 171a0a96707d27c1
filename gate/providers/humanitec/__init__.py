"""Humanitec Platform Orchestrator: v1 (:mod:`~gate.providers.humanitec.v1`) and v2
(:mod:`~gate.providers.humanitec.v2`), over the HTTP API they share
(:mod:`~gate.providers.humanitec.api`). A library user imports the providers from ``gate``."""
