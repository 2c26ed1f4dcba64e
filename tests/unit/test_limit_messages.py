"""Every message about a limit names a command-line flag that exists on the command it names,
so the fix it suggests can be run as written."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from fastapi.testclient import TestClient

from deepviz.cli import cli
from deepviz.images.decode import DecodeLimits
from deepviz.server.app import _too_big, create_app
from deepviz.server.uploads import upload_limits
from deepviz.settings import ServeSettings


def _flags(command: str) -> set[str]:
    cmd = cli.commands[command] if isinstance(cli, click.Group) else None
    assert cmd is not None
    return {opt for p in cmd.params for opt in getattr(p, "opts", [])}


def _suggested(message: str) -> list[tuple[str, str]]:
    """(command, flag) pairs a message tells the user to run: 'deepviz COMMAND [PROJECT] --flag'."""
    return re.findall(r"deepviz (\w+)(?: [A-Z]+)? (--[a-z-]+)", message)


MESSAGES = {
    "upload body": _too_big(20_000_000),
    "upload pixels": upload_limits(ServeSettings()).pixels_option,
    "upload memory": upload_limits(ServeSettings()).memory_option,
    "build pixels": DecodeLimits().pixels_option,
    "build memory": DecodeLimits().memory_option,
}


def test_a_forgotten_upload_says_how_many_are_held_and_the_flag(tiny_project: Path) -> None:
    with TestClient(create_app(tiny_project, ServeSettings(keep_uploads=3)), base_url="http://localhost") as client:
        r = client.get("/api/rank/upload/u123")
    detail = r.json()["detail"]
    assert r.status_code == 404 and "holds the last 3" in detail
    assert _suggested(detail) == [("serve", "--keep-uploads")] and "--keep-uploads" in _flags("serve")


@pytest.mark.parametrize("name", MESSAGES)
def test_the_flag_a_limit_message_suggests_exists(name: str) -> None:
    pairs = _suggested(MESSAGES[name])
    assert pairs, MESSAGES[name]
    for command, flag in pairs:
        assert flag in _flags(command), f"{name}: deepviz {command} has no {flag}"


def test_the_body_limit_message_quotes_the_limit_and_a_higher_value() -> None:
    message = _too_big(20_000_000)
    assert "20 MB limit" in message and message.endswith("--max-upload-bytes 50000000")
    assert _too_big(80_000_000).endswith("--max-upload-bytes 160000000")
