"""The fields every Humanitec target has, declared where describing a target costs no import
of httpx (``gate wait humanitec --help`` reads them)."""

from __future__ import annotations

from gate.core.description import Field

__all__ = ["V1_API_URL", "V2_API_URL", "connection_fields"]

V1_API_URL = "https://api.humanitec.io"
"""The Platform Orchestrator v1 API."""
V2_API_URL = "https://api.humanitec.dev"
"""The Platform Orchestrator v2 API."""


def connection_fields(default_url: str) -> tuple[Field, ...]:
    """The fields of every Humanitec target that say where its API is."""
    return (
        Field(
            "api_url",
            "API base URL",
            kind="url",
            default=default_url,
            env=("HUMANITEC_API_URL",),
        ),
        Field(
            "allow_plain_http",
            "allow an http:// API URL on another machine (the token travels unencrypted)",
            kind="flag",
        ),
    )
