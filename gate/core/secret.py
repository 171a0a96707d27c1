"""Credentials: a :class:`Secret` never shows itself in ``repr``, ``str``, logs or
exceptions, and no credential the gate knows of comes back through what a server says.

Every credential the gate learns in a run is remembered here (:func:`remember`), as GitHub's
runner remembers what ``::add-mask::`` names: each :class:`Secret` (the Humanitec and GitHub
tokens) as it is made, the secrets the environment names (:func:`secrets_in`: AWS' secret key
and session token among them) where a face or a telling is built from an environment, the AWS
chain's keys where its clients are made, a probe URL's password, its basic-auth header, its
query and its credential values. :func:`scrubbed` cuts them all out of a text wherever they
show up; :func:`gate.core.text.from_api`, the one door of text from outside (an API's answer,
a check's, a probe's body), applies it to every text it lets in, and the tellings apply it
again to all they send (OpenTelemetry, GitHub), so whatever is shown or sent after (stderr,
JSON, JUnit, spans, GitHub, a rollback's comment) never holds one.

Only a value of :data:`WITHIN_SECRET_LENGTH` characters or more is remembered: a shorter one
would blank words the gate decides on (``deploy``, ``true``) in every answer. A probe cuts its
own shorter credentials from its own answers (:class:`Scrubber`'s ``anywhere``).

The set only grows: in the Pulumi provider host, a process that serves many resources, it
holds every credential of every resource it has served. That is on purpose: each is a
credential (8 characters or more, named so), cutting it from a later answer only ever hides a
credential, and a handful a resource is no memory to speak of.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote

from gate.core.errors import ConfigError

__all__ = [
    "EXACT_SECRET_LENGTH",
    "MIN_TOKEN_LENGTH",
    "WITHIN_SECRET_LENGTH",
    "Scrubber",
    "Secret",
    "header_token",
    "parse_key_values",
    "remember",
    "scrubbed",
    "secrets_in",
]

MIN_TOKEN_LENGTH = 16
"""Shorter tokens are refused: every echo of a token is redacted from what the gate shows,
and a short one (``t``) would turn ordinary words into ``execu***ing``."""


class Secret:
    __slots__ = ("_value", "source")

    def __init__(self, value: str, *, source: str = "") -> None:
        self._value = value
        remember(value)
        self.source = source
        """Where the value came from, in words (``HUMANITEC_TOKEN``), for a refusal to name."""

    def reveal(self) -> str:
        """The value, for the one place that must send it (an Authorization header)."""
        return self._value

    def fingerprint(self) -> str:
        """A digest that tells two secrets apart without holding either (a cache key)."""
        return hashlib.sha256(self._value.encode("utf-8", "surrogatepass")).hexdigest()

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> str:
        raise TypeError("a Secret cannot be pickled")


def header_token(source: str, raw: str) -> Secret:
    """The token in ``raw`` (surrounding whitespace dropped), if an HTTP header can carry it.

    A line break, inner space or non-ASCII character can never be sent: that is a
    :class:`ConfigError` naming ``source`` and the position, never the character itself.
    """
    token = raw.strip()
    if not token:
        raise ConfigError(f"{source} is not set: export the API token in it")
    for position, character in enumerate(token, start=1):
        if not "\x21" <= character <= "\x7e":
            raise ConfigError(
                f"{source} has a character an HTTP header cannot carry at position {position} "
                "(a line break, space, control or non-ASCII character): check how it was stored"
            )
    if len(token) < MIN_TOKEN_LENGTH:
        length = f"{len(token)} character{'' if len(token) == 1 else 's'}"
        raise ConfigError(
            f"{source} is too short ({length}): an API token is longer, and one this short "
            f"cannot be kept out of what the gate shows (at least {MIN_TOKEN_LENGTH} characters)"
        )
    return Secret(token, source=source)


EXACT_SECRET_LENGTH = 4
"""A value this long or longer of a probe's query is cut from its own answers where it is the
whole text."""
WITHIN_SECRET_LENGTH = 8
"""A secret this long or longer is remembered for the run and cut out of any text it shows
up in (a shorter one would turn ordinary words into ``***``)."""


def _echoed_forms(secret: str) -> set[str]:
    """``secret`` as a server may echo it: as sent, percent-encoded, or with JSON's ``\\/``."""
    return {secret, quote(secret, safe=""), secret.replace("/", "\\/")}


class Scrubber:
    """Cuts secrets out of text, in every form a server echoes them: a text equal to one of
    ``secrets`` (4 characters or more) becomes ``***``, and one of 8 or more is cut wherever
    it shows up inside another; each of ``anywhere`` is cut wherever it shows up whatever its
    length (a probe's own credentials, from its own answers)."""

    def __init__(self, secrets: Iterable[str] = (), *, anywhere: Iterable[str] = ()) -> None:
        kept = [secret for secret in secrets if len(secret) >= EXACT_SECRET_LENGTH]
        self._whole = frozenset(form for secret in kept for form in _echoed_forms(secret))
        within = {
            form
            for secret in [*(s for s in kept if len(s) >= WITHIN_SECRET_LENGTH), *anywhere]
            if secret
            for form in _echoed_forms(secret)
        }
        self._within = sorted(within, key=len, reverse=True)

    def text(self, value: str) -> str:
        if value in self._whole:
            return "***"
        for secret in self._within:
            if secret in value:
                value = value.replace(secret, "***")
        return value


_SECRET_NAME = re.compile(
    r"(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|API_?KEY|PRIVATE_KEY|AUTH)(?:_|$)"
)
"""Names of environment variables whose values are secrets wherever they show up."""
_HEADER_VARIABLES = (
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
)


_SETTING_WORDS = frozenset(
    {"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "none", "null", "0", "1"}
)
"""Values that are settings whatever their variable is named (``GIT_AUTH_ENABLED=true``)."""


def secrets_in(env: Mapping[str, str]) -> list[str]:
    """Every value in ``env`` that is a secret: tokens, passwords, keys (by their variable's
    name, a setting such as ``true`` never) and the OTLP headers' values, whole and word by
    word (``Bearer abc...``)."""
    found: list[str] = []
    for name, value in env.items():
        if _SECRET_NAME.search(name.upper()) and value.strip().lower() not in _SETTING_WORDS:
            found.append(value.strip())
    for name in _HEADER_VARIABLES:
        raw = env.get(name, "")
        if not raw.strip():
            continue
        found.append(raw.strip())
        for value in parse_key_values(raw).values():
            found.append(value)
            found.extend(value.split())
    return [secret for secret in found if secret]


def parse_key_values(raw: str) -> dict[str, str]:
    """``key1=value1,key2=value2`` as OpenTelemetry's variables write headers and resource
    attributes: values percent-decoded, entries without ``=`` or without a key left out."""
    pairs: dict[str, str] = {}
    for entry in raw.split(","):
        key, equals, value = entry.partition("=")
        key = key.strip()
        if equals and key:
            pairs[key] = unquote(value.strip())
    return pairs


_known: frozenset[str] = frozenset()
_known_scrubber = Scrubber(())
_known_lock = threading.Lock()


def remember(*secrets: str) -> None:
    """Cut ``secrets`` out of every text from outside from now on (:func:`scrubbed`), as
    written and as a server may echo them: percent-encoded, or with JSON's ``\\/``. One
    shorter than :data:`WITHIN_SECRET_LENGTH` is not remembered (see the module's docstring)."""
    global _known, _known_scrubber
    kept = {
        secret
        for secret in secrets
        if isinstance(secret, str) and len(secret) >= WITHIN_SECRET_LENGTH
    }
    with _known_lock:
        if kept <= _known:
            return
        _known = _known | kept
        _known_scrubber = Scrubber(_known)


def scrubbed(text: str) -> str:
    """``text`` with every credential the gate knows of in this run cut out."""
    return _known_scrubber.text(text)
