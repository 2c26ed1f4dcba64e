"""Settings as data: defaults stated once, limits enforced, the CLI generated from them."""
from __future__ import annotations

import click
import pytest
from PIL import Image

from deepviz.cli import cli
from deepviz.errors import UsageError
from deepviz.settings import DEFAULT_MAX_PIXELS, BuildSettings, DuplicateSettings, EvalSettings, ProjectSettings, ServeSettings, validated


def test_the_pixel_limit_default_is_pillows() -> None:
    assert DEFAULT_MAX_PIXELS == Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize(
    ("command", "model"),
    [("build", BuildSettings), ("serve", ServeSettings), ("eval", EvalSettings), ("duplicates", DuplicateSettings)],
)
def test_every_setting_is_an_option_with_the_models_limits(command: str, model: type[BuildSettings]) -> None:
    options = {p.name: p for p in cli.commands[command].params if isinstance(p, click.Option)}
    assert set(model.model_fields) <= set(options)
    for name, info in model.model_fields.items():
        assert info.description and info.description in (options[name].help or "")
        # click never supplies a default of its own: the model's is the only one.
        assert options[name].default in (None, info.default) or options[name].multiple


def test_cli_limits_come_from_the_model() -> None:
    options = {p.name: p for p in cli.commands["build"].params if isinstance(p, click.Option)}
    thumb = options["thumb_sizes"].type
    assert isinstance(thumb, click.IntRange) and (thumb.min, thumb.max) == (8, 512)
    aspect = options["aspect"].type
    assert isinstance(aspect, click.FloatRange) and (aspect.min, aspect.max) == (0.1, 10)
    assert isinstance(options["grid_method"].type, click.Choice) and "kdsplit" in options["grid_method"].type.choices
    assert options["grid_method"].opts == ["--grid"] and options["models"].opts == ["-m", "--model"]


def test_bad_values_are_usage_errors_naming_the_field() -> None:
    with pytest.raises(UsageError, match=r"aspect: Input should be greater than or equal to 0.1"):
        validated(BuildSettings, {"aspect": 0})
    with pytest.raises(UsageError, match=r"port: Input should be less than or equal to 65535"):
        validated(ServeSettings, {"port": 70000})


def test_which_settings_were_given_is_known() -> None:
    given = BuildSettings(aspect=2.0, batch_size=8)
    assert given.model_fields_set == {"aspect", "batch_size"}
    assert given.project_settings() == ProjectSettings(aspect=2.0)
    assert BuildSettings(thumb_sizes=()).thumb_sizes is None  # click's "not given"
