"""The command line, a face: ``gate wait``, ``gate wait-all``, ``gate providers``, ``gate demo``.

Exit codes (a contract, see README): 0 succeeded, 1 failed (the deployment, or its bake), 2
usage or configuration error, 3 deadline passed, 4 status (or a bake's checks) could not be
read, 128+N interrupted by signal N (during a rollback too).
"""

from gate.cli.command import main

__all__ = ["main"]
