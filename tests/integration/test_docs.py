"""The README documents every command and every option, and its two commands are the real ones."""
from __future__ import annotations

from pathlib import Path

import click
import pytest

from deepviz.cli import cli

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme() -> None:
    for name in cli.commands:
        assert f"deepviz {name}" in README, f"README does not mention `deepviz {name}`"


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_option_is_in_the_readme(command: str) -> None:
    """Each option's long form (``--model``; ``--open`` for ``--open/--no-open``) appears in the README."""
    missing = []
    for param in cli.commands[command].params:
        if isinstance(param, click.Option) and "--help" not in param.opts:
            longest = max(param.opts, key=len)
            if longest not in README:
                missing.append(longest)
    assert not missing, f"README does not document these `deepviz {command}` options: {missing}"


def test_readme_commands_are_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e . && deepviz demo" in README
    assert "bash scripts/install.sh && python -m pytest -q" in README
    assert "bash scripts/install.sh" in ci and "python -m pytest -q" in ci
    # and the README's install and demo, in a fresh venv
    assert "pip install -q -e ." in ci and "deepviz demo --no-serve" in ci
