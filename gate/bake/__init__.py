"""The bake: after a deployment succeeded, watch the release's health for a while before the
gate lets the pipeline go on. Each kind of health signal is a :class:`~gate.bake.check.Check`
(CloudWatch alarms, Prometheus queries, Alertmanager alerts, HTTP probes); the bake reads them
all until its time is up or one breaches."""
