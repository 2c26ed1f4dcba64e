"""Click options generated from the settings models, so a setting's flag, type, limits, default and help are stated once."""
from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
import click
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from deepviz.settings import Cli

__all__ = ["given_settings", "settings_options"]

F = TypeVar("F", bound=Callable[..., Any])


def settings_options(model: type[BaseModel], only: Iterable[str] | None = None) -> Callable[[F], F]:
    """A decorator adding one click option per field of ``model`` (or of the fields in ``only``).

    Each option's parameter name is the field's name, so the command receives the values under
    the names the model takes; :func:`given_settings` picks the ones given on the command line.
    """
    own = set(model.__annotations__)  # a command's own settings first, then those it shares
    names = list(only) if only is not None else sorted(model.model_fields, key=lambda n: n not in own)

    def decorate(command: F) -> F:
        for name in reversed(names):
            command = _option(name, model.model_fields[name])(command)
        return command

    return decorate


def given_settings(ctx: click.Context, model: type[BaseModel]) -> dict[str, Any]:
    """The values of ``model``'s fields that were given on the command line (not click's defaults),
    so the model knows which settings the user set (``model_fields_set``)."""
    given = {}
    for name in model.model_fields:
        if name in ctx.params and ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
            given[name] = ctx.params[name]
    return given


def _option(name: str, info: FieldInfo) -> Callable[[F], F]:
    cli = next((m for m in info.metadata if isinstance(m, Cli)), Cli())
    flags = cli.flags or ("--" + name.replace("_", "-"),)
    annotation = _strip_none(info.annotation)
    repeated = get_origin(annotation) is tuple
    item = get_args(annotation)[0] if repeated else annotation
    kwargs: dict[str, Any] = {"help": _help(info, cli), "multiple": repeated}
    if item is bool:
        kwargs["default"] = info.default
        if "/" not in flags[0]:
            kwargs["is_flag"] = True
    else:
        kwargs["type"] = _click_type(item, info.metadata, cli)
        # The model supplies the defaults; click's stay unset so "not given" can be told apart.
        kwargs["default"] = None
    return click.option(*flags, name, **kwargs)


def _strip_none(annotation: Any) -> Any:
    """``X | None`` -> ``X``."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _click_type(item: Any, metadata: list[Any], cli: Cli) -> click.ParamType[Any, Any]:
    if get_origin(item) is Annotated:  # an item type with its own limits, e.g. each thumbnail size
        base, *extra = get_args(item)
        return _click_type(base, [m for e in extra for m in getattr(e, "metadata", [e])], cli)
    if get_origin(item) is Literal:
        return click.Choice([str(v) for v in get_args(item)])
    if item is Path:
        return click.Path(exists=cli.path is not None, dir_okay=cli.path != "file", file_okay=cli.path != "dir", path_type=Path)
    low: Any = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
    high: Any = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
    if item is int:
        return click.IntRange(low, high) if low is not None or high is not None else click.INT
    if item is float:
        return click.FloatRange(low, high) if low is not None or high is not None else click.FLOAT
    return click.STRING


def _help(info: FieldInfo, cli: Cli) -> str:
    default = cli.default_text
    if isinstance(info.default, bool) and cli.flags and "/" in cli.flags[0]:
        on, off = cli.flags[0].split("/")
        default = (on if info.default else off).lstrip("-")
    elif default is None and info.default is not None and not isinstance(info.default, bool):
        value = info.default
        default = " ".join(map(str, value)) if isinstance(value, tuple) else str(value)
    return f"{info.description} [default: {default}]" if default else str(info.description)
