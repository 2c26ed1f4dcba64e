"""A fake npm registry in a folder: a package tarball built here and its metadata, reached by file:// URLs."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

from PIL import Image

from deepviz.demo import emoji

RECORDS: list[dict[str, Any]] = [
    {"image": "1f600.png", "short_name": "grinning", "category": "Smileys & Emotion", "sort_order": 1, "has_img_google": True},
    {"image": "1f603.png", "short_name": "smiley", "category": "Smileys & Emotion", "sort_order": 2, "has_img_google": True},
    {"image": "1f436.png", "short_name": "dog", "category": "Animals & Nature", "sort_order": 3, "has_img_google": True},
    {"image": "1f3fb.png", "short_name": "skin-tone-2", "category": "Component", "sort_order": 4, "has_img_google": True},
    {"image": "1f34e.png", "short_name": "apple", "category": "Food & Drink", "sort_order": 5, "has_img_google": False},
]


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, format="PNG")
    return out.getvalue()


def package_files() -> dict[str, bytes]:
    """The files of a small emoji-datasource-google, with a sheet and a 32 px image the demo must not take."""
    files = {
        "package/emoji.json": json.dumps(RECORDS).encode(),
        "package/LICENSE": b"The MIT License (MIT) fake",
        "package/README.md": b"* Android/Google/Noto images, are available under the Apache License 2.0.\n",
        "package/img/google/sheets/64.png": png((1, 1, 1)),
        "package/img/google/32/1f600.png": png((2, 2, 2)),
    }
    for i, record in enumerate(RECORDS):
        files[f"package/img/google/64/{record['image']}"] = png((40 * i, 100, 200))
    return files


def tarball(files: dict[str, bytes], path: Path) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def registry(root: Path, tgz: Path, *, integrity_of: bytes | None = None) -> str:
    """A registry folder whose metadata points at ``tgz`` with the sha512 of ``integrity_of`` (default: the tarball)."""
    digest = hashlib.sha512(integrity_of if integrity_of is not None else tgz.read_bytes()).digest()
    meta = {"versions": {emoji.VERSION: {"dist": {
        "tarball": tgz.resolve().as_uri(),
        "integrity": "sha512-" + base64.b64encode(digest).decode(),
    }}}}
    root.mkdir(parents=True, exist_ok=True)
    (root / emoji.PACKAGE).write_text(json.dumps(meta))
    return root.resolve().as_uri()
