"""Start the native gate provider (the same entry point as the pulumi-resource-gate command)."""

from gate.pulumi.native import main

main()
