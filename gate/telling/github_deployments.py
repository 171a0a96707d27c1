"""Each gated deployment as a GitHub deployment of the commit, with its statuses.

Made by :func:`github_deployments` from the workflow's environment: ``GITHUB_TOKEN`` (needs
``permissions: deployments: write``), ``GITHUB_REPOSITORY`` (``owner/repo``), the commit
``GITHUB_SHA`` (else ``GITHUB_REF``), ``GITHUB_API_URL`` (default ``https://api.github.com``),
and ``GITHUB_SERVER_URL``, ``GITHUB_RUN_ID``, ``GITHUB_RUN_ATTEMPT`` for the run's page.

Requests (REST API ``2022-11-28``, through :mod:`gate.telling.github_api`)::

    GET  /repos/{owner}/{repo}/deployments?sha=&environment=&task=deploy:gate&per_page=100
    POST /repos/{owner}/{repo}/deployments                    (when none is there to reuse)
         {ref, task: "deploy:gate", environment, description, auto_merge: false,
          required_contexts: [], payload: {"deploy_gate": {"run_id": GITHUB_RUN_ID}}}
    POST /repos/{owner}/{repo}/deployments/{id}/statuses
         {state, description (140 characters at most), log_url, environment_url}

**Which environment** (:meth:`GitHubDeployments.environment_of`, one rule for a single gate
and a gate of many): the one given (``--github-environment``) for a single gate; a target's
own ``name`` in a gate of many (a given environment would put every target in one
deployment, so it is left aside, with a warning from :meth:`close`); else the environment
the target's ids name (Humanitec's ``env``, a Greengrass v1 group id, a Greengrass v2 thing
group or thing), qualified only where another target of the release is in another
environment of that id (:func:`~gate.telling.environments.environment_name`): never a
deployment id, which would make a new GitHub environment every release.

**When.** A gate's deployment is created, and ``in_progress`` posted, when its wait starts:
as soon as its environment is known (a Greengrass v2 target's thing group, at its first
read). A target that names none is not recorded (a warning says which, and what to give).

**Reuse.** Before creating, the deployments of the same commit, environment and task are
listed (one page, newest first), and one whose payload names the same workflow run
(``GITHUB_RUN_ID``) is reused: a re-run of a job (a new ``GITHUB_RUN_ATTEMPT``) adds statuses
to its deployment rather than piling up another. Outside a workflow run nothing is reused.

**States.** Started: ``in_progress``. Ended: ``success`` when the gate succeeded; ``failure``
when the deployment (or its bake) failed; ``error`` when the gate timed out or could not read
it (GitHub's "the deployment errored", as far as anyone can tell); ``inactive`` when the gate
was cancelled (a signal, ``--fail-fast``): the gate stopped watching, and GitHub shows the
deployment as no longer the environment's live one rather than as failed. The description is
the outcome's reason, on one line, cut to GitHub's 140 characters, with every secret the run
knows of cut out (:func:`gate.core.secret.scrubbed`: the environment's are remembered as the
telling is built; statuses of a public repository are public).
``environment_url`` (:meth:`GitHubDeployments.url_of`, with every status): the one given
(``--environment-url``); else, for a Humanitec target, the environment's page in Humanitec's
console, only when the API that target reads is the public one (its own ``api_url``, else
the ``humanitec_api_url`` given, else ``HUMANITEC_API_URL``).

**Never the gate's outcome.** The reporter only queues what to post: one worker thread posts
it in order, one request at a time (as GitHub asks, against its secondary limits), so a slow
or refusing GitHub never delays a wait; its requests are its own, outside the gate's shared
request budget (``--max-rate``) and its stop. A call that fails stops the posting for its
deployment (a refused token, an unknown repository or an unreachable API: for every one), and
:meth:`GitHubDeployments.close` waits for the queue at most :data:`FLUSH_SECONDS` and returns
each failure as a warning, ``GitHub deployment status not posted: ...``. The token is never in
a warning.
"""

from __future__ import annotations

import contextvars
import queue
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gate.core.durations import format_duration
from gate.core.errors import ConfigError
from gate.core.model import Outcome, OutcomeStatus, Snapshot
from gate.core.secret import Secret, header_token, remember, scrubbed, secrets_in
from gate.core.text import one_line
from gate.core.urls import require_api_url
from gate.telling.environments import environment_name
from gate.telling.github_api import GitHubApi, GitHubRefused, github_client, path_of
from gate.waiting.reporter import NullReporter
from gate.waiting.telling import Gated

if TYPE_CHECKING:
    import httpx

    from gate.waiting.fleet import FleetOutcome

__all__ = [
    "DEFAULT_API_URL",
    "DESCRIPTION_LIMIT",
    "FLUSH_SECONDS",
    "STATES",
    "TASK",
    "GitHubDeployments",
    "github_deployments",
]

DEFAULT_API_URL = "https://api.github.com"
HUMANITEC_API_URL = "https://api.humanitec.io"
HUMANITEC_CONSOLE = "https://app.humanitec.io"
TASK = "deploy:gate"
DESCRIPTION_LIMIT = 140
"""GitHub's longest status description, in characters."""
FLUSH_SECONDS = 30.0
"""How long :meth:`GitHubDeployments.close` waits for what is left to post."""
STATES: Mapping[OutcomeStatus, str] = {
    OutcomeStatus.SUCCEEDED: "success",
    OutcomeStatus.FAILED: "failure",
    OutcomeStatus.TIMED_OUT: "error",
    OutcomeStatus.ERROR: "error",
    OutcomeStatus.CANCELLED: "inactive",
}
"""The deployment status each ending posts (``in_progress`` while it waits)."""
_ENDED = {
    OutcomeStatus.SUCCEEDED: "succeeded",
    OutcomeStatus.FAILED: "failed",
    OutcomeStatus.TIMED_OUT: "timed out",
    OutcomeStatus.ERROR: "could not be read",
    OutcomeStatus.CANCELLED: "gate cancelled",
}
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_DIGITS = re.compile(r"[0-9]+")
_SHA = re.compile(r"[0-9a-f]{40}")
_WARNING = "GitHub deployment status not posted"


def github_deployments(
    env: Mapping[str, str],
    *,
    environment: str | None,
    environment_url: str | None,
    request_timeout: float,
    humanitec_api_url: str | None = None,
    sleep: Callable[[float], None] | None = None,
    flush_seconds: float = FLUSH_SECONDS,
    ref: str | None = None,
) -> GitHubDeployments:
    """The telling, from a workflow's environment ``env`` (see the module's docstring). A
    missing token, repository or commit is a :class:`ConfigError`; a bad API URL a
    :class:`~gate.core.errors.UsageError`. ``sleep``: the wait before a retry (tests).
    ``ref``: the commit (or branch, tag) deployed, when not ``GITHUB_SHA``: on a pull
    request that is a merge commit, and the action passes the head commit instead."""
    if not env.get("GITHUB_TOKEN", "").strip():
        raise ConfigError(
            "GITHUB_TOKEN is not set: a GitHub deployment needs a token that may write "
            "deployments (in a workflow: `permissions: deployments: write`)"
        )
    token = header_token("GITHUB_TOKEN", env["GITHUB_TOKEN"])
    # Statuses of a public repository are public: no secret of the environment is told.
    remember(*secrets_in(env))
    owner, repo = _repository(env.get("GITHUB_REPOSITORY", ""))
    given = (ref or "").strip()
    sha = given if _SHA.fullmatch(given) else ("" if given else env.get("GITHUB_SHA", "").strip())
    ref = given or sha or env.get("GITHUB_REF", "").strip()
    if not ref:
        raise ConfigError("GITHUB_SHA is not set: a GitHub deployment needs the commit it deploys")
    api_url = require_api_url("GITHUB_API_URL", env.get("GITHUB_API_URL") or DEFAULT_API_URL)
    humanitec = humanitec_api_url or env.get("HUMANITEC_API_URL") or HUMANITEC_API_URL
    # In a context of its own: outside any gate's shared request budget (--max-rate), whose
    # stop (--fail-fast) would otherwise hold back the statuses that say it.
    client = contextvars.Context().run(
        github_client, api_url, token, request_timeout=request_timeout
    )
    return GitHubDeployments(
        client,
        token,
        owner=owner,
        repo=repo,
        ref=ref,
        by_sha=bool(sha),
        run_id=_digits(env.get("GITHUB_RUN_ID")),
        log_url=_log_url(env, owner, repo),
        environment=environment or None,
        environment_url=environment_url or None,
        humanitec_api_url=humanitec,
        sleep=sleep,
        flush_seconds=flush_seconds,
    )


def _repository(value: str) -> tuple[str, str]:
    owner, _, repo = value.strip().partition("/")
    for part in (owner, repo):
        if not _NAME.fullmatch(part) or part in (".", ".."):
            shown = one_line(value, limit=100) if value else ""
            raise ConfigError(
                f"GITHUB_REPOSITORY {shown!r} is not owner/repo"
                if shown
                else "GITHUB_REPOSITORY is not set: a GitHub deployment needs owner/repo"
            )
    return owner, repo


def _digits(value: str | None) -> str | None:
    text = (value or "").strip()
    return text if _DIGITS.fullmatch(text) else None


def _log_url(env: Mapping[str, str], owner: str, repo: str) -> str | None:
    """The workflow run's page (its attempt's, when known): where the gate's output is."""
    run_id = _digits(env.get("GITHUB_RUN_ID"))
    if run_id is None:
        return None
    server = require_api_url(
        "GITHUB_SERVER_URL",
        env.get("GITHUB_SERVER_URL") or "https://github.com",
        allow_plain_http=True,  # a page for people: nothing is sent to it
    )
    page = str(server).rstrip("/") + path_of(owner, repo, "actions", "runs", run_id)
    attempt = _digits(env.get("GITHUB_RUN_ATTEMPT"))
    return f"{page}/attempts/{attempt}" if attempt else page


@dataclass
class _Deployment:
    """One gate's GitHub deployment, as the worker knows it."""

    gate: Gated
    environment: str | None = None
    """Decided once (under the telling's lock), from the gate's ids or its outcome's."""
    description: str = ""
    id: int | None = None
    failed: bool = False
    ended: bool = False
    """Its gate's end was told (else a gate of many tells it from the whole's outcome)."""


_Task = tuple[_Deployment, "_Start | Outcome"]


class GitHubDeployments:
    """The :class:`~gate.waiting.telling.Telling` (see the module's docstring)."""

    def __init__(
        self,
        client: httpx.Client,
        token: Secret,
        *,
        owner: str,
        repo: str,
        ref: str,
        by_sha: bool,
        run_id: str | None,
        log_url: str | None,
        environment: str | None,
        environment_url: str | None,
        humanitec_api_url: str = HUMANITEC_API_URL,
        sleep: Callable[[float], None] | None = None,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self._stop = threading.Event()
        self._api = GitHubApi(client, token, sleep=sleep or self._pause)
        self._client = client
        self._token = token
        self._repo = (owner, repo)
        self._ref = ref
        self._by_sha = by_sha
        self._run_id = run_id
        self._log_url = log_url
        self._environment = environment
        self._environment_url = environment_url
        self._humanitec_api_url = humanitec_api_url
        self._flush_seconds = flush_seconds
        self._queue: queue.Queue[_Task | None] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._broken: str | None = None
        """Why nothing more is posted for any deployment (the token, the repository)."""
        self._warnings: list[str] = []
        self._by_name: dict[str, _Deployment] = {}
        self._release: tuple[Gated, ...] = ()
        self._taken: set[int] = set()
        """Deployments this telling posts to: none is reused for a second gate."""

    def _pause(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise GitHubRefused("the gate stopped waiting for GitHub")

    # The Telling

    def for_gate(self, gate: Gated) -> _GateReporter:
        if gate.name and self._environment:
            self._warn(
                f"the GitHub environment {self._environment!r} is for a single gate: each "
                "target of a gate of many is recorded in its own, by its name or its "
                "environment's"
            )
        deployment = _Deployment(gate)
        with self._lock:
            self._by_name[gate.name] = deployment
        return _GateReporter(self, deployment)

    def release_started(self, gates: Sequence[Gated]) -> None:
        with self._lock:
            self._release = tuple(gates)

    def environment_of(self, gate: Gated, ids: Mapping[str, str]) -> str | None:
        """The GitHub environment of ``gate`` whose ids are ``ids`` (see the module's
        docstring); None while they name none."""
        if gate.name and gate.named:
            return gate.name
        if not gate.name and self._environment:
            return self._environment
        with self._lock:
            others = [other.ids() for other in self._release if other.name != gate.name]
        return environment_name(ids, [ids, *others])

    def url_of(self, gate: Gated, provider: str, ids: Mapping[str, str]) -> str | None:
        """The ``environment_url`` of every status of ``gate`` (see the module's docstring)."""
        if self._environment_url:
            return self._environment_url
        api = (gate.api_url or self._humanitec_api_url).rstrip("/")
        if provider != "humanitec" or api != HUMANITEC_API_URL:
            return None
        if not all(ids.get(key) for key in ("org", "app", "env")):
            return None
        return HUMANITEC_CONSOLE + path_of(
            "orgs", ids["org"], "apps", ids["app"], "envs", ids["env"]
        )

    def placed(self, deployment: _Deployment, ids: Mapping[str, str]) -> bool:
        """Whether ``deployment``'s environment is known (decided now if ``ids`` name it)."""
        if deployment.environment is None:
            environment = self.environment_of(deployment.gate, ids)
            with self._lock:
                if deployment.environment is None:
                    deployment.environment = environment
        return deployment.environment is not None

    def release_finished(self, outcome: FleetOutcome) -> None:
        """A target whose gate was cut off before it said its end (a stop's grace ran out)
        still gets its final status, from the whole's outcome."""
        for ended in outcome.outcomes:
            with self._lock:
                deployment = self._by_name.get(ended.name)
            if deployment is not None:
                self.end(deployment, ended)

    def end(self, deployment: _Deployment, outcome: Outcome) -> None:
        """Its final status, once: from its gate, or from the whole's outcome when the gate
        was cut off (a late word from the gate is then not told again)."""
        with self._lock:
            if deployment.ended:
                return
            deployment.ended = True
        self.tell(deployment, outcome)

    def close(self) -> list[str]:
        """Wait for what is queued (at most ``flush_seconds``); every failure, in words."""
        with self._lock:
            if self._closed:
                return []
            self._closed = True
            worker = self._worker
        if worker is not None:
            self._queue.put(None)
            worker.join(self._flush_seconds)
            if worker.is_alive():
                self._stop.set()  # a retry's wait ends at once; the worker then gives up
                within = format_duration(self._flush_seconds)
                self._warn(f"GitHub did not take every status within {within}")
        self._client.close()
        with self._lock:
            return [scrubbed(f"{_WARNING}: {warning}") for warning in self._warnings]

    # Called by the gates' reporters

    def tell(self, deployment: _Deployment, value: _Start | Outcome) -> None:
        with self._lock:
            if self._closed:
                return
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="gate-github-deployments", daemon=True
                )
                self._worker.start()
        self._queue.put((deployment, value))

    # The worker

    def _work(self) -> None:
        while (task := self._queue.get()) is not None:
            if self._stop.is_set():
                continue
            deployment, value = task
            if self._broken is not None or deployment.failed:
                continue
            try:
                if isinstance(value, _Start):
                    self._started(deployment, value)
                else:
                    self._finished(deployment, value)
            except GitHubRefused as refused:
                deployment.failed = True
                said = str(refused)
                if refused.whole:
                    self._broken = said
                    self._warn(said)
                else:
                    where = deployment.environment or deployment.gate.name
                    self._warn(f"{where}: {said}" if where else said)
            except Exception as fault:  # a telling never changes the gate
                deployment.failed = True
                self._warn(f"{type(fault).__name__}: {one_line(str(fault), limit=300)}")

    def _started(self, deployment: _Deployment, started: _Start) -> None:
        self._ensure(deployment)
        said = f"waiting for {started.description}"
        self._post(deployment, "in_progress", said, started.url)

    def _finished(self, deployment: _Deployment, outcome: Outcome) -> None:
        if not self.placed(deployment, outcome.target):
            give = "the target a 'name'" if deployment.gate.name else "--github-environment"
            raise GitHubRefused(
                f"{deployment.description or outcome.provider} names no environment: give {give}"
            )
        self._ensure(deployment)
        url = self.url_of(deployment.gate, outcome.provider, outcome.target)
        self._post(deployment, STATES[outcome.status], _said(outcome), url)

    def _ensure(self, deployment: _Deployment) -> None:
        """The deployment's id: one this run made before, or a new one."""
        if deployment.id is not None:
            return
        assert deployment.environment is not None
        path = path_of("repos", *self._repo, "deployments")
        if self._run_id is not None:
            listed = self._api.call(
                "GET",
                path,
                "listing the deployments",
                params={
                    "sha" if self._by_sha else "ref": self._ref,
                    "environment": deployment.environment,
                    "task": TASK,
                    "per_page": 100,
                },
            )
            for item in listed if isinstance(listed, list) else ():
                if isinstance(item, dict) and self._is_ours(item) and self._claimed(item):
                    deployment.id = _id_of(item)
                    return
        created = self._api.call(
            "POST",
            path,
            f"creating the deployment in {deployment.environment!r}",
            body={
                "ref": self._ref,
                "task": TASK,
                "environment": deployment.environment,
                "description": deployment.description or "deploy-gate",
                "auto_merge": False,
                "required_contexts": [],
                "payload": {"deploy_gate": {"run_id": self._run_id or ""}},
            },
            expect=(201,),
        )
        deployment.id = _id_of(created)
        self._claimed(created)

    def _claimed(self, deployment: object) -> bool:
        """Whether ``deployment`` is now this gate's: no other gate of the run posts to it
        (two targets in one environment get a deployment each)."""
        ident = _id_of(deployment)
        with self._lock:
            if ident in self._taken:
                return False
            self._taken.add(ident)
        return True

    def _is_ours(self, item: Mapping[str, Any]) -> bool:
        payload = item.get("payload")
        mark = payload.get("deploy_gate") if isinstance(payload, dict) else None
        return isinstance(mark, dict) and mark.get("run_id") == self._run_id

    def _post(self, deployment: _Deployment, state: str, said: str, url: str | None) -> None:
        assert deployment.id is not None
        body: dict[str, object] = {
            "state": state,
            "description": _cut(scrubbed(said)),
        }
        if self._log_url:
            body["log_url"] = self._log_url
        if url:
            body["environment_url"] = url
        self._api.call(
            "POST",
            path_of("repos", *self._repo, "deployments", deployment.id, "statuses"),
            f"posting {state!r} to the deployment in {deployment.environment!r}",
            body=body,
            expect=(201,),
        )

    def _warn(self, said: str) -> None:
        with self._lock:
            if said not in self._warnings:
                self._warnings.append(said)


@dataclass(frozen=True)
class _Start:
    description: str
    url: str | None


class _GateReporter(NullReporter):
    """One gate's :class:`~gate.waiting.reporter.Reporter`: queues its start (once its
    environment is known: at the start, or after a first read that names it) and its end;
    the rest of a wait is not GitHub's to hear. Its calls come from the gate's thread."""

    def __init__(self, telling: GitHubDeployments, deployment: _Deployment) -> None:
        self._telling = telling
        self._deployment = deployment
        self._description: str | None = None
        self._told_start = False

    def started(self, description: str, timeout: float) -> None:
        self._description = description
        self._deployment.description = one_line(description, limit=DESCRIPTION_LIMIT)
        self._start_once_placed()

    def status_changed(self, previous: Snapshot | None, current: Snapshot, elapsed: float) -> None:
        self._start_once_placed()

    def finished(self, outcome: Outcome) -> None:
        self._telling.end(self._deployment, outcome)

    def _start_once_placed(self) -> None:
        if self._told_start or self._description is None:
            return
        gate = self._deployment.gate
        ids = gate.ids()
        if not self._telling.placed(self._deployment, ids):
            return
        self._told_start = True
        url = self._telling.url_of(gate, gate.provider, ids)
        self._telling.tell(self._deployment, _Start(self._description, url))


def _id_of(deployment: object) -> int:
    ident = deployment.get("id") if isinstance(deployment, dict) else None
    if not isinstance(ident, int) or isinstance(ident, bool) or ident <= 0:
        raise GitHubRefused("GitHub's deployment has no id")
    return ident


def _said(outcome: Outcome) -> str:
    took = format_duration(outcome.elapsed_seconds)
    ended = f"{_ENDED[outcome.status]} after {took}"
    if outcome.succeeded or not outcome.reason:
        return ended
    return f"{ended}: {outcome.reason}"


def _cut(text: str) -> str:
    """``text`` on one line, at most GitHub's 140 characters, cut between characters."""
    return one_line(text, limit=DESCRIPTION_LIMIT)
