"""The README and the docs site document every command and option, the README's two commands are the
real ones, and the docs' examples run."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import click
import numpy as np
import pytest

import deepviz
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


# The docs site (mkdocs.yml, docs/): its CLI reference is generated from `cli`, and its examples run.
DOCS = ROOT / "docs"
_MAY_SKIP = not os.environ.get("CI")  # CI installs the docs extra: there this must run


def _code_block(page: str, title: str) -> str:
    """The fenced Python block of ``docs/PAGE`` whose title is ``title``."""
    text = (DOCS / page).read_text(encoding="utf-8")
    match = re.search(rf'```python title="{re.escape(title)}"\n(.*?)\n```', text, re.S)
    assert match, f'docs/{page} has no ```python title="{title}" block'
    return match.group(1)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `mkdocs build --strict` makes it (strict is set in mkdocs.yml: a warning fails)."""
    if _MAY_SKIP:
        pytest.importorskip("mkdocs_click", reason='the docs extra is not installed (pip install -e ".[docs]")')
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    site = tmp_path_factory.mktemp("site")
    config = load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site))
    assert config["strict"], "mkdocs.yml must set strict: true"
    mkdocs_build(config)
    return site


def test_cli_reference_covers_every_command_and_option(built_site: Path) -> None:
    page = html.unescape((built_site / "cli" / "index.html").read_text(encoding="utf-8"))
    for name, command in cli.commands.items():
        assert f'id="deepviz-{name}"' in page, f"the CLI reference has no section for `deepviz {name}`"
        for param in command.params:
            if isinstance(param, click.Option):
                assert max(param.opts, key=len) in page, f"the CLI reference lacks `deepviz {name}` {param.opts}"


def test_api_reference_renders_every_exported_name(built_site: Path) -> None:
    """Each name ``deepviz`` exports (and the extractor protocol) has a rendered entry with its docstring."""
    page = (built_site / "api" / "index.html").read_text(encoding="utf-8")
    rendered = set(re.findall(r'id="(deepviz\.[\w.]+)"', page))
    exported = {f"deepviz.{name}" for name in deepviz.__all__ if name != "__version__"}
    by_module = {
        "deepviz.features.base.Extractor",
        "deepviz.features.registry.register_extractor",
        "deepviz.export.figure.write_figure",
        "deepviz.errors.DeepvizError",
    }
    renamed = {"deepviz.DeepvizError", "deepviz.ProjectError"}  # rendered as deepviz.errors.*
    missing = sorted((exported | by_module) - rendered - renamed)
    assert not missing, f"the API reference (docs/api.md) does not render: {missing}"
    assert "deepviz.errors.ProjectError" in rendered


def test_the_own_extractor_example_builds_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/models.md's ColourHistogram example, run as written on a generated folder (bundled model swapped out)."""
    from deepviz.features.registry import unregister_extractor
    from tests.conftest import make_folder

    make_folder(tmp_path / "photos", with_broken=False)
    monkeypatch.chdir(tmp_path)
    # The example also asks for mobilenet_v2, whose weights this test must not fetch: keep only its own model.
    source = _code_block("models.md", "colour_hist.py").replace('"mobilenet_v2", ', "")
    try:
        exec(compile(source, "docs/models.md", "exec"), {"__name__": "docs_example"})
        project = deepviz.open_project(tmp_path / "photos.deepviz")
        features = np.asarray(project.features("colour_hist"))
        assert features.shape == (project.n, 64)
        assert np.allclose(np.linalg.norm(features.astype(np.float32), axis=1), 1, atol=1e-3)
    finally:
        unregister_extractor("colour_hist")
