"""The gate as a native Pulumi provider (``pulumi-resource-gate``): ``gate:index:DeploymentGate``
for Pulumi programs in any language. See the README's "Pulumi in any language"."""

from gate.pulumi.native.server import main

__all__ = ["main"]
