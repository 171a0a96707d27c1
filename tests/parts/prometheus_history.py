"""A real Prometheus with a past: samples backfilled through ``promtool tsdb
create-blocks-from openmetrics`` before it starts, then scraped from an exporter each second.

The comparison's tests need a baseline window that holds stored samples from before the
gate ran; a Prometheus started by a test has none of its own. :func:`prometheus_with_history`
writes the history as OpenMetrics, has ``promtool`` (Debian's, shipped with ``prometheus``)
turn it into TSDB blocks in a fresh data directory, and starts Prometheus on it, scraping
:class:`NoisyExporter`, whose gauges draw a new value (seeded) on every scrape; it is ready
once the first scrape is stored. The few seconds between the history's end and that scrape
hold no sample.
"""

from __future__ import annotations

import json
import random
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.parts.prometheus_stack import (
    PROMETHEUS,
    Exporter,
    PrometheusStack,
    _server,
    ensure_installed,
)

__all__ = ["NoisyExporter", "history_openmetrics", "prometheus_with_history"]

PROMTOOL = Path("/usr/bin/promtool")

Draw = Callable[[random.Random], float]
"""One sample of a gauge, drawn from the exporter's seeded generator."""


class NoisyExporter(Exporter):
    """An :class:`Exporter` whose gauges draw their value on each scrape; the test changes
    what they draw (:meth:`draw`) when the release it plays changes."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._draws: dict[str, Draw] = {}
        self._draws_lock = threading.Lock()
        super().__init__()

    def draw(self, metric: str, draw: Draw) -> None:
        with self._draws_lock:
            self._draws[metric] = draw

    def render(self) -> str:
        with self._draws_lock:
            lines = [
                f'{metric}{{service="checkout"}} {draw(self._random)!r}'
                for metric, draw in sorted(self._draws.items())
            ]
        return "\n".join(lines) + "\n"


def history_openmetrics(
    metric: str,
    draw: Draw,
    exporter: NoisyExporter,
    *,
    seed: int,
    start: float,
    end: float,
    step: float = 1.0,
) -> str:
    """``metric``, a gauge, drawn every ``step`` seconds from ``start`` to ``end`` (Unix
    seconds), as ``promtool`` reads OpenMetrics: with the labels Prometheus gives what it
    scrapes from ``exporter``, so the history and the scraped samples are one series."""
    generator = random.Random(seed)
    labels = f'instance="{exporter.target}",job="exporter",service="checkout"'
    lines = [f"# TYPE {metric} gauge"]
    moment = start
    while moment <= end:
        lines.append(f"{metric}{{{labels}}} {draw(generator)!r} {moment:.3f}")
        moment += step
    return "\n".join([*lines, "# EOF"]) + "\n"


@dataclass
class HistoryPrometheus:
    url: str
    exporter: NoisyExporter
    stack: PrometheusStack
    """For waiting on conditions through Prometheus' API (no Alertmanager: its URL is empty)."""


@contextmanager
def prometheus_with_history(
    folder: Path, history: str, exporter: NoisyExporter
) -> Iterator[HistoryPrometheus]:
    ensure_installed()
    folder.mkdir()
    data = folder / "data"
    written = folder / "history.om"
    written.write_text(history)
    made = subprocess.run(
        [str(PROMTOOL), "tsdb", "create-blocks-from", "openmetrics", str(written), str(data)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if made.returncode != 0:
        pytest.fail(f"promtool could not backfill the history:\n{made.stderr[-3000:]}")
    config = folder / "prometheus.yml"
    config.write_text(  # YAML is a superset of JSON
        json.dumps(
            {
                "global": {"scrape_interval": "1s"},
                "scrape_configs": [
                    {"job_name": "exporter", "static_configs": [{"targets": [exporter.target]}]}
                ],
            }
        )
    )
    with ExitStack() as stack:
        address = stack.enter_context(
            _server(
                "Prometheus",
                folder,
                lambda address: [
                    str(PROMETHEUS),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={data}",
                    f"--web.listen-address={address}",
                    # Between the history's end and the first scrape (Prometheus starts
                    # scraping about 5 s after it is ready) the default 5-minute lookback
                    # would repeat the history's last value at every step of that gap.
                    "--query.lookback-delta=2s",
                ],
            )
        )
        url = f"http://{address}"
        running = HistoryPrometheus(url, exporter, PrometheusStack(exporter, url, ""))
        running.stack.wait_for(
            "Prometheus has scraped the exporter",
            lambda: running.stack.query('up{job="exporter"} == 1')["result"],
        )
        yield running
