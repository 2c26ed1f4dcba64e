"""Layers point inward: cli/server -> pipeline -> features, storage, images -> core; errors and settings are leaves.

Read from the source with ``ast``, so a new upward import or an import hidden in a function to
dodge a circle fails here, not in a reviewer's head.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "deepviz"

# Lower numbers are further in; a module may import its own package and anything further in.
LAYER = {
    "deepviz._version": 0, "deepviz.errors": 0, "deepviz.filenames": 0, "deepviz.cache": 0, "deepviz.faults": 0,
    "deepviz.atomic": 0, "deepviz.settings": 1,
    "deepviz.core": 2,
    "deepviz.images": 3, "deepviz.storage": 3, "deepviz.features": 3,
    "deepviz.pipeline": 4, "deepviz.export": 4,
    "deepviz.server": 5, "deepviz.demo": 5, "deepviz.arrays": 5, "deepviz.notebook": 6,
    "deepviz.cli_options": 6, "deepviz.cli": 7, "deepviz.__main__": 8, "deepviz": 8,
}
# Modules imported inside functions because they import a heavy library at the top.
HEAVY = {
    "deepviz.features.onnx_graph": "imports onnx (~0.5 s), needed only when a model is converted",
    "deepviz.features.torch_nets": "imports torch, an optional extra",
    "deepviz.features.hub": "imports torch and a hub package",
    "deepviz.core.halfdot": "imports numba (~1 s), an optional extra, needed only to rank float16 features",
    "deepviz.core.grid.compiled": "imports numba (~1 s), an optional extra, needed only to refine a grid",
    "deepviz.features.hf": "imports torch and transformers when a model is loaded",
    "deepviz.notebook.widget": "imports anywidget, the notebook extra",
    "deepviz.notebook.served": "imports the server (FastAPI), needed only once a widget is shown",
}
# Modules that import deepviz modules inside functions, each for a stated reason.
LAZY = {
    "deepviz.cli": "each command imports what it runs, so `deepviz --help` is instant",
    "deepviz": "the package's exports load on first use, so `import deepviz` is instant",
    "deepviz.server": "the same, for deepviz.server's exports",
    "deepviz.features.registry": "a model's module imports onnxruntime or torch; only the named one is loaded",
}


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "static" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _layer_of(module: str) -> tuple[str, int]:
    key = max((k for k in LAYER if module == k or module.startswith(k + ".")), key=len)
    return key, LAYER[key]


def _imports(tree: ast.AST) -> list[ast.ImportFrom | ast.Import]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.ImportFrom, ast.Import))]


def _targets(node: ast.ImportFrom | ast.Import) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        if node.module == "deepviz":  # from deepviz import demo: the submodule is what is imported
            return [f"deepviz.{a.name}" for a in node.names]
        return [node.module] if node.module and node.module.startswith("deepviz") else []
    return [a.name for a in node.names if a.name.startswith("deepviz")]


def test_every_module_has_a_layer() -> None:
    for name in _modules():
        assert _layer_of(name), name


def test_no_module_imports_outward() -> None:
    wrong = []
    for name, tree in _modules().items():
        home, level = _layer_of(name)
        for node in _imports(tree):
            for target in _targets(node):
                there, target_level = _layer_of(target)
                if there != home and target_level >= level and name != "deepviz":
                    wrong.append(f"{name} imports {target}")
    assert not wrong, wrong


def test_deepviz_imports_inside_functions_are_only_the_documented_lazy_ones() -> None:
    hidden = []
    for name, tree in _modules().items():
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and name not in LAZY:
                hidden += [f"{name}.{fn.name} imports {t}" for n in _imports(fn) for t in _targets(n) if t not in HEAVY]
    assert not hidden, hidden


def test_the_server_reaches_models_only_through_uploads() -> None:
    for name, tree in _modules().items():
        if name.startswith("deepviz.server") and name != "deepviz.server.uploads":
            reached = [t for n in _imports(tree) for t in _targets(n) if t.startswith("deepviz.features")]
            assert set(reached) <= {"deepviz.features.base"}, f"{name} imports {reached}"


def test_core_is_pure_arrays() -> None:
    banned = ("torch", "onnxruntime", "fastapi", "starlette", "PIL", "pyarrow", "pandas", "click", "deepviz.storage")
    for name, tree in _modules().items():
        if name.startswith("deepviz.core"):
            for node in _imports(tree):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not [n for n in names if n.split(".")[0] in banned or n.startswith(banned)], (name, names)
