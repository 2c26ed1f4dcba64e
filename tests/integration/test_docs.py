"""The README documents every command and every build option, and its two commands are the real ones."""
from __future__ import annotations

from pathlib import Path

import click

from deepviz.cli import cli

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme() -> None:
    for name in cli.commands:
        assert f"deepviz {name}" in README, f"README does not mention `deepviz {name}`"


def test_every_build_option_is_in_the_readme_or_its_help() -> None:
    build = cli.commands["build"]
    for param in build.params:
        if isinstance(param, click.Option):
            assert param.help or any(o in README for o in param.opts), f"build option {param.opts} is undocumented"


def test_readme_test_command_is_what_ci_runs() -> None:
    assert "python -m pytest -q" in README
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/install.sh" in (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/install.sh && deepviz demo" in README
