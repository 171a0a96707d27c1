"""Telling the platform what the gate did, as data: an OpenTelemetry trace and metrics of
each gated deployment (:mod:`gate.telling.otel`), and GitHub Deployments statuses
(:mod:`gate.telling.github_deployments`). Each is a :class:`~gate.waiting.telling.Telling`:
opt-in, imported only when asked for, and never blocking nor failing the gate."""
