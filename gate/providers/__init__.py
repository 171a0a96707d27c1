"""The providers: one per deployment API, each reading one deployment for the engine.

The interface they implement lives in the core (:mod:`gate.core.provider`) and is named here
too, where a provider's author looks for it. Third-party packages add plugins through the
``gate.providers`` entry-point group (see :mod:`gate.providers.registry`). Importing this
package imports no client library: each provider module imports its own (boto3, httpx) when
it is chosen.
"""

from gate.core.provider import (
    ExplainsFailure,
    HoldsReads,
    KnowsHistory,
    Provider,
    ProviderPlugin,
    ReadsAtDeadline,
    ReportsDevices,
    RollsBack,
)

__all__ = [
    "ExplainsFailure",
    "HoldsReads",
    "KnowsHistory",
    "Provider",
    "ProviderPlugin",
    "ReadsAtDeadline",
    "ReportsDevices",
    "RollsBack",
]
