"""When a Pulumi gate waits again: the one rule both faces apply in diff and update.

* A new target (provider, ids, endpoint) or new ``triggers`` is a new gate: a replace, which
  waits.
* A gate on an environment's latest deployment with no ``triggers`` waits again on every
  update: each ``pulumi up`` resolves the latest deployment anew, as a pipeline step would.
  With ``triggers``, it waits again only when they change.
* A gate that was skipped (``skip_await``) waits once it is no longer told to skip.
* New timing alone changes nothing that was waited on: the recorded outcome stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gate.pulumi.inputs import AFTER_KEYS, DURATION_KEYS, TARGET_KEYS, is_latest
from gate.pulumi.outcomes import SKIPPED

__all__ = ["Change", "change_of", "fleet_change_of"]


@dataclass(frozen=True)
class Change:
    replaces: tuple[str, ...]
    """Inputs whose change makes a new gate."""
    updates: tuple[str, ...]
    """Inputs whose change the recorded outcome survives."""
    waits_again: bool
    """True when an update must wait (and read) again though no target input changed."""

    @property
    def changed(self) -> bool:
        return bool(self.replaces or self.updates or self.waits_again)


def change_of(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Change:
    """What changes from the recorded state ``olds`` to the checked inputs ``news``."""
    options = (*DURATION_KEYS, *AFTER_KEYS)
    return _change(olds, news, TARGET_KEYS, options, follows_latest=is_latest(news))


def fleet_change_of(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Change:
    """:func:`change_of` for many targets: any target on a latest deployment follows it."""
    targets = news.get("targets")
    follows_latest = isinstance(targets, list) and any(
        isinstance(target, dict) and is_latest(target) for target in targets
    )
    return _change(
        olds,
        news,
        ("targets", "fail_fast"),
        (*DURATION_KEYS, *AFTER_KEYS, "max_rate"),
        follows_latest=follows_latest,
    )


def _change(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    target_keys: tuple[str, ...],
    option_keys: tuple[str, ...],
    *,
    follows_latest: bool,
) -> Change:
    def changed(key: str) -> bool:
        return olds.get(key) != news.get(key)

    replaces = tuple(key for key in (*target_keys, "triggers") if changed(key))
    updates = tuple(key for key in (*option_keys, "skip_await") if changed(key))
    untriggered = follows_latest and news.get("triggers") is None
    was_skipped = olds.get("status") == SKIPPED
    skipping = news.get("skip_await") is True
    waits_again = not replaces and not skipping and (untriggered or was_skipped)
    return Change(replaces=replaces, updates=updates, waits_again=waits_again)
