"""The emulator: every emulated API on one server, a thread on 127.0.0.1."""

from __future__ import annotations

from gate.emulator.greengrass_v1 import GreengrassV1
from gate.emulator.greengrass_v2 import GreengrassV2
from gate.emulator.humanitec_v1 import HumanitecV1
from gate.emulator.humanitec_v2 import HumanitecV2
from gate.emulator.prometheus import Prometheus

__all__ = ["Emulator"]


class Emulator(HumanitecV1, HumanitecV2, GreengrassV1, GreengrassV2, Prometheus):
    """Serve scripted deployments on loopback until :meth:`stop` (or the ``with`` block ends).

    ``clock`` decides how far each timeline has run; tests pass the same virtual clock they
    give the gate, so a 10-minute deployment passes in no real time.

    With ``seconds_per_read``, reads drive the timelines instead of the clock: each read of
    a deployment's status (a pipeline run's, an environment's runtime) moves that one on by
    so many seconds, and every other read in between sees the same moment. A gate then sees
    every status of a timeline, however slowly the machine runs it.

    ``rate_limit``: more requests than this in any second (real time) are answered 429 with
    ``Retry-After: 1``, as a throttling API does; :attr:`throttled` counts them.

    Its Prometheus (:meth:`add_error_ratio`) serves metrics at :attr:`url` for a bake's
    ``--prometheus``: series whose values are functions of the moment, so a bake's baseline,
    before the deployment, has data as well.
    """
