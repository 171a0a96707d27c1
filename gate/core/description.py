"""One description of each kind of target, from which every face is made.

A provider declares what names its deployment once, as a :class:`TargetDescription`: each
:class:`Field` with its type, help, default, whether it is secret, the environment
variables the command line falls back to, and how it is checked. The faces derive their
own spelling from it: the command line's flags (``--deploy-id``), a targets file's keys
(``deploy-id``), the Python Pulumi component's inputs (``deploy_id``) and the native
provider's schema (``deployId``). :meth:`TargetDescription.read` checks values given in
any face and returns :class:`TargetValues`, which is what a provider is built from.

A problem with a field is a :class:`FieldError` that knows which fields it is about, so
each face says it in its own spelling (:meth:`FieldError.worded`).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from gate.core.durations import LONGEST_DURATION, compact_duration
from gate.core.errors import GateError, UsageError
from gate.core.text import one_line

__all__ = [
    "Field",
    "FieldError",
    "Kind",
    "Spelling",
    "TargetDescription",
    "TargetValues",
    "camel_case",
    "cli_flag",
    "file_key",
    "kind_of",
    "named",
]

Kind = Literal["text", "id", "url", "flag", "number", "percent", "choice", "duration", "list"]
"""``id``: goes into a request path (letters, digits, ``.``, ``_``, ``-``); ``url``: an API
base URL (checked as :func:`gate.core.urls.require_api_url` does); ``flag``: true or false;
``number``: a finite number; ``percent``: one that may be written ``95%``; ``duration``:
seconds, or text such as ``90s`` or ``15m`` (read as seconds), 0 to 7 days unless its field
says otherwise; ``list``: texts, given once each (``--alarm a --alarm b``), as a list, or as
one text (read as a list of one). A number's bounds are its field's (:class:`Field`)."""

Spelling = Callable[[str], str]
"""How a face spells a field's key (``deploy_id`` -> ``--deploy-id``, ``deployId``)."""

_MARK = "\x1f"
"""Brackets a field's key inside a message until a face spells it: a control character that
no value echoed into a message carries (they are shown escaped)."""
_MARKED = re.compile(f"{_MARK}([a-z0-9_]+){_MARK}")


def named(key: str) -> str:
    """A field's name inside a :class:`FieldError` message, spelled later by each face."""
    return f"{_MARK}{key}{_MARK}"


def cli_flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def file_key(key: str) -> str:
    return key.replace("_", "-")


def camel_case(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


class FieldError(UsageError):
    """A field given a value that cannot work, or fields that do not go together.

    ``str(error)`` spells fields as command-line flags; :meth:`worded` as a face wants."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(self.worded(cli_flag))

    def worded(self, spelling: Spelling) -> str:
        return _MARKED.sub(lambda found: spelling(found[1]), self.message)

    def in_file(self) -> str:
        """As a targets file says it: ``field 'deploy-id' ...``."""
        return _MARKED.sub(lambda found: f"field '{file_key(found[1])}'", self.message)


@dataclass(frozen=True)
class Field:
    """One input that names or shapes the deployment a gate waits on."""

    key: str
    """snake_case; each face spells it its own way."""
    doc: str
    kind: Kind = "text"
    default: str | float | bool | None = None
    """The value when none is given (a ``flag`` without one is false)."""
    choices: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    """Environment variables the command line reads when the field is not given (the first
    one set wins); other faces take values only as written."""
    required: bool = False
    secret: bool = False
    """Never echoed: not in an error, an id, an output or a log line."""
    metavar: str | None = None
    env_unless: tuple[str, ...] = ()
    """Fields that, when given, leave ``env`` unread (an environment id a pipeline run has
    no use for is neither taken nor checked)."""
    more_than: float | None = None
    """A ``number``, ``percent`` or ``duration`` must be more than this (``0``: no zero).
    The bounds are the field's one rule about its value: :meth:`check` applies them, in the
    same words, to whatever face the value came from."""
    least: float | None = None
    """It must be at least this (a ``duration``: 0 unless ``more_than`` is set)."""
    most: float | None = None
    """It must be at most this (a ``duration``: 7 days unless set)."""
    whole: bool = False
    """It counts something: a whole number."""
    formerly: tuple[str, ...] = ()
    """Keys this field had before: every face refuses them, naming this field, so an old
    spelling never silently means something else (or nothing)."""

    def check(self, value: object, given: Mapping[str, object]) -> object:
        """``value`` as this field's type, or a :class:`FieldError` naming the field (a
        secret one without its value)."""
        if not self.secret:
            return self._check(value, given)
        try:
            return self._check(value, given)
        except FieldError:
            raise FieldError(
                self.key, f"{named(self.key)} is not a usable {self.kind} (a secret: not shown)"
            ) from None

    def seconds(self, value: object) -> float:
        """A ``duration`` field's value in seconds, checked as :meth:`check` does."""
        if self.kind != "duration":
            raise TypeError(f"{self.key} is a {self.kind}, not a duration")
        return self.number(value)

    def number(self, value: object) -> float:
        """A ``number``, ``percent`` or ``duration`` field's value (a duration in seconds),
        checked as :meth:`check` does."""
        checked = self.check(value, {})
        if not isinstance(checked, float):
            raise TypeError(f"{self.key} is a {self.kind}, not a number")
        return checked

    def _check(self, value: object, given: Mapping[str, object]) -> object:
        name = named(self.key)
        if self.kind == "flag":
            if not isinstance(value, bool):
                raise FieldError(self.key, f"{name} must be true or false, not {kind_of(value)}")
            return value
        if self.kind in ("number", "percent"):
            return self._bounded(_number(self.key, value, percent=self.kind == "percent"))
        if self.kind == "duration":
            return self._bounded(_seconds(self.key, value))
        if self.kind == "list":
            return _texts(self.key, value)
        if not isinstance(value, str):
            raise FieldError(self.key, f"{name} must be text, not {kind_of(value)}")
        if self.kind == "choice" and value not in self.choices:
            raise FieldError(
                self.key,
                f"{name} must be {' or '.join(self.choices)}, not {one_line(value, limit=80)!r}",
            )
        if self.kind == "id":
            _checked(self.key, lambda flag: _require_id(flag, value))
        if self.kind == "url":
            plain_http = given.get("allow_plain_http") is True
            _checked(self.key, lambda flag: _require_url(flag, value, plain_http))
        return value

    def _bounded(self, number: float) -> float:
        """``number`` if it is within the field's bounds; else the one refusal every face
        says: ``--bake-interval must be more than 0 and at most 168h``."""
        least, most = self.least, self.most
        if self.kind == "duration":
            least = 0.0 if least is None and self.more_than is None else least
            most = LONGEST_DURATION if most is None else most
        low_ok = (self.more_than is None or number > self.more_than) and (
            least is None or number >= least
        )
        high_ok = most is None or number <= most
        if low_ok and high_ok and (not self.whole or number.is_integer()):
            return number
        raise FieldError(self.key, f"{named(self.key)} must be {self._range(least, most)}")

    def _range(self, least: float | None, most: float | None) -> str:
        def shown(number: float) -> str:
            if self.kind == "duration" and number:
                return compact_duration(number)
            return f"{number:g}%" if self.kind == "percent" else f"{number:g}"

        if self.whole and least is not None and most is not None:
            return f"a whole number {shown(least)} to {shown(most)}"
        said = []
        if self.more_than is not None:
            said.append(f"more than {shown(self.more_than)}")
        elif least is not None:
            said.append(f"{shown(least)} or more")
        if most is not None:
            said.append(f"at most {shown(most)}")
        return ("a whole number " if self.whole else "") + " and ".join(said)


@dataclass(frozen=True)
class TargetDescription:
    """What names one kind of target, for every face: a provider's fields and rules."""

    provider: str
    summary: str
    fields: tuple[Field, ...]
    exactly_one_of: tuple[str, ...] = ()
    """Of these fields, exactly one must be given (a ``flag`` counts when true)."""
    rules: Sequence[Callable[[TargetValues], None]] = field(default=())
    """Checks of fields together; each raises a :class:`FieldError`."""

    def __post_init__(self) -> None:
        keys = [each.key for each in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.provider}: a field is declared twice")
        unknown = set(self.exactly_one_of) - set(keys)
        if unknown:
            raise ValueError(f"{self.provider}: exactly_one_of names no field {sorted(unknown)}")

    def field(self, key: str) -> Field:
        for each in self.fields:
            if each.key == key:
                return each
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(each.key for each in self.fields)

    @property
    def former_keys(self) -> tuple[str, ...]:
        """The keys its fields had before (each refused by :meth:`not_a_field`)."""
        return tuple(old for each in self.fields for old in each.formerly)

    def renamed(self, key: str) -> Field | None:
        """The field that was called ``key`` before, if one was."""
        return next((each for each in self.fields if key in each.formerly), None)

    def not_a_field(self, key: str) -> FieldError:
        """The refusal of ``key``, naming the field it became if it was renamed."""
        now = self.renamed(key)
        if now is not None:
            return FieldError(key, f"{named(key)} is now {named(now.key)}: {now.doc}")
        return FieldError(key, f"{named(key)} is not a field of provider {self.provider}")

    def read(
        self, given: Mapping[str, object], *, env: Mapping[str, str] | None = None
    ) -> TargetValues:
        """``given`` checked field by field, then together; the first problem is raised.
        ``env``: the command line's fallbacks; None for faces that take only what is
        written. A value None or empty is unset (``--org "$ORG"`` with nothing in it)."""
        target, problems = self._checked(given, env=env, unknown=frozenset())
        if problems:
            raise problems[0]
        return target

    def problems(
        self, given: Mapping[str, object], *, unknown: Collection[str] = ()
    ) -> list[FieldError]:
        """Every problem of ``given`` (no environment), for a face that shows them all at
        once (Pulumi's Check). ``unknown``: fields with a value not known yet (a preview):
        neither checked nor missing, and rules that may need them wait."""
        return self._checked(given, env=None, unknown=frozenset(unknown))[1]

    def _checked(
        self,
        given: Mapping[str, object],
        *,
        env: Mapping[str, str] | None,
        unknown: frozenset[str],
    ) -> tuple[TargetValues, list[FieldError]]:
        problems = [self.not_a_field(key) for key in sorted(set(given) - set(self.keys))]
        given = {key: None if value in ("", [], ()) else value for key, value in given.items()}
        values: dict[str, object] = {}
        written = frozenset(key for key, value in given.items() if value is not None)
        for each in self.fields:
            value = given.get(each.key)
            unread = any(given.get(key) not in (None, False) for key in each.env_unless)
            if value is None and env is not None and not unread:
                value = next((env[name] for name in each.env if env.get(name)), None)
            if value is None or each.key in unknown:
                continue
            try:
                values[each.key] = each.check(value, given)
            except FieldError as bad:
                problems.append(bad)
        target = TargetValues(self, values, written, from_env=env is not None)
        wrong = {problem.key for problem in problems}
        for each in self.fields:
            if each.required and each.key not in unknown | wrong:
                try:
                    target.require(each.key)
                except FieldError as missing:
                    problems.append(missing)
        if problems:
            return target, problems
        if self.exactly_one_of and not unknown & set(self.exactly_one_of):
            chosen = [key for key in self.exactly_one_of if target.given(key)]
            if len(chosen) == 2:
                problems.append(
                    FieldError(chosen[0], f"set {named(chosen[0])} or {named(chosen[1])}, not both")
                )
            elif len(chosen) != 1:
                names = ", ".join(named(key) for key in self.exactly_one_of)
                said = "one of" if not chosen else "only one of"
                problems.append(
                    FieldError((chosen or self.exactly_one_of)[0], f"give {said} {names}")
                )
        if problems or unknown:
            return target, problems
        for rule in self.rules:
            try:
                rule(target)
            except FieldError as broken:
                problems.append(broken)
        return target, problems


@dataclass(frozen=True)
class TargetValues:
    """A target's fields as checked by its :class:`TargetDescription`: what a provider is
    built from, whichever face they were written in."""

    description: TargetDescription
    values: Mapping[str, object]
    written: frozenset[str] = frozenset()
    """The fields written in the face, not taken from the environment."""
    from_env: bool = False
    """Whether unset fields fell back to the environment (the command line)."""

    def given(self, key: str) -> bool:
        return self.values.get(key) not in (None, False)

    def require(self, key: str) -> None:
        """A :class:`FieldError` when ``key`` has no value."""
        if self.given(key):
            return
        spec = self.description.field(key)
        where = _env_advice(spec) if self.from_env else ""
        raise FieldError(key, f"{named(key)} is required{where}")

    def text(self, key: str) -> str | None:
        value = self.values.get(key, self._default(key))
        return value if isinstance(value, str) else None

    def flag(self, key: str) -> bool:
        value = self.values.get(key, self._default(key))
        return value is True

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.values.get(key, ())
        return value if isinstance(value, tuple) else ()

    def number(self, key: str) -> float | None:
        value = self.values.get(key, self._default(key))
        return float(value) if isinstance(value, (int, float)) else None

    def number_of(self, key: str) -> float:
        """The number ``key`` was given (checked within its bounds), else its declared
        default: never a stand-in for a value that was given (a 0 is refused, not replaced)."""
        number = self.number(key)
        if number is None:
            raise TypeError(f"{key} has no number and no default")
        return number

    def _default(self, key: str) -> object:
        return self.description.field(key).default


def _env_advice(spec: Field) -> str:
    if not spec.env:
        return ""
    return f" (or set {spec.env[0]})"


def kind_of(value: object) -> str:
    """``a number`` / ``true or false`` / ``a list``: how a refusal names what it was given."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _number(key: str, value: object, *, percent: bool) -> float:
    number = math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value.strip().removesuffix("%") if percent else value)
    if not math.isfinite(number):
        shown = repr(one_line(value, limit=40)) if isinstance(value, str) else kind_of(value)
        such = "a percentage such as 95 or 95%" if percent else "a number"
        raise FieldError(key, f"{named(key)} must be {such}, not {shown}")
    return number


def _texts(key: str, value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise FieldError(key, f"{named(key)} must be a list of texts, not {kind_of(value)}")
    if any(not item.strip() for item in items):
        raise FieldError(key, f"{named(key)} has an empty entry")
    return tuple(items)


def _seconds(key: str, value: object) -> float:
    from gate.core.durations import parse_duration

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isnan(value):
            raise FieldError(key, f"{named(key)} must be a number of seconds, not {value}")
        return float(value)
    if not isinstance(value, str):
        raise FieldError(
            key, f"{named(key)} must be a duration such as 90s or 20m, not {kind_of(value)}"
        )
    try:
        return parse_duration(value, flag=named(key))
    except GateError as bad:
        raise FieldError(key, str(bad)) from None


def _checked(key: str, check: Callable[[str], None]) -> None:
    """Run a check written in terms of one flag name, as a :class:`FieldError` of ``key``."""
    try:
        check(named(key))
    except FieldError:
        raise
    except GateError as bad:
        raise FieldError(key, str(bad)) from None


def _require_id(flag: str, value: str) -> None:
    from gate.core.ids import require_id

    require_id(flag, value)


def _require_url(flag: str, value: str, plain_http: bool) -> None:
    from gate.core.urls import require_api_url

    require_api_url(
        flag,
        value,
        allow_plain_http=plain_http,
        plain_http_advice=f"set {named('allow_plain_http')}",
    )
