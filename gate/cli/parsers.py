"""The parsers of the commands that wait, ``gate wait PROVIDER`` and ``gate wait-all``: the
commands read them, and the action's inputs and the docs' tables are made from them
(:mod:`gate.cli.generated`)."""

from __future__ import annotations

from gate.cli.common import Parser
from gate.cli.flags import (
    add_after_flags,
    add_former_flags,
    add_release_flags,
    add_report_flags,
    add_target_flags,
    add_telling_flags,
    add_waiting_flags,
)
from gate.providers import ProviderPlugin

__all__ = ["provider_parser", "wait_all_parser"]


def provider_parser(plugin: ProviderPlugin) -> Parser:
    """``gate wait PROVIDER``'s flags: the target's, then what every gate has."""
    parser = Parser(prog=f"gate wait {plugin.name}", description=plugin.summary)
    add_target_flags(parser, plugin.description)
    add_waiting_flags(parser)
    add_after_flags(parser)
    add_telling_flags(parser)
    add_release_flags(parser, "with one id repeated (--env a --env b)")
    add_report_flags(parser)
    add_former_flags(parser, plugin.description)
    return parser


def wait_all_parser() -> Parser:
    """``gate wait-all``'s flags."""
    parser = Parser(
        prog="gate wait-all",
        description="Wait on every deployment listed in FILE at once; succeed only if all do.",
        epilog="FILE is YAML or JSON: a list of targets, or {defaults: {...}, targets: "
        "[...]}. Each target has 'provider', an optional 'name', and the provider's flags as "
        "fields (deploy-id: 0f3c, latest: true); waiting flags given here are defaults that "
        "a target's own fields override. The bake flags given here are the release's own bake, "
        "once every target passed; a target bakes by itself with bake fields of its own "
        "(bake: 5m, probe: [URL]). Its JSON Schema: 'gate schema targets'. Exit codes: 0 "
        "all succeeded, 1 one failed, 3 one "
        "timed out, 4 one could not be read (the worst wins), 2 bad input.",
    )
    parser.add_argument("file", help="the targets: a YAML or JSON file, or - for stdin")
    add_waiting_flags(parser)
    add_after_flags(parser)
    add_telling_flags(parser)
    add_release_flags(parser, "all of FILE")
    add_report_flags(parser)
    return parser
