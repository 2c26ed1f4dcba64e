"""The default demo set: Noto emoji (64 px PNGs) from the npm package ``emoji-datasource-google``.

Every OS fetches it the same way (HTTPS to the npm registry, standard library only, sha512
checked). Its ``emoji.json`` gives each emoji's ``category``, which becomes the label folder.
At most :data:`PER_CATEGORY` emoji are kept per category, evenly spread over the package's own
order so every subcategory is represented, which gives ~900 images in 9 balanced classes (the
skin-tone swatches of "Component" are left out: five near-identical squares are no class).
"""
from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deepviz.demo import npm

PACKAGE = "emoji-datasource-google"
VERSION = "16.0.0"  # pinned, so every user's demo has the same images and labels
PER_CATEGORY = 100
SKIPPED_CATEGORIES = frozenset({"Component"})
_IMAGES = "package/img/google/64/"
_DATA = "package/emoji.json"
_LICENSE = "package/LICENSE"
_README = "package/README.md"
_IMAGE_NAME = re.compile(r"[0-9a-f]+(-[0-9a-f]+)*\.png")
_SHORT_NAME = re.compile(r"[a-z0-9][a-z0-9_+-]*")
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def folder_name(version: str = VERSION) -> str:
    """The cache folder of one version's images (a new version is a new folder, never a mix)."""
    return f"{PACKAGE}-{version}"


def fetch(target: Path, *, registry: str | None = None, version: str = VERSION, echo: Callable[[str], None] = print) -> Path:
    """Download, verify and unpack the demo images into ``target`` (replaced whole, atomically)."""
    rel = npm.release(PACKAGE, version, registry)

    def announce(size: int | None) -> None:
        how_big = "size not given" if size is None else f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
        echo(
            f"Fetching the demo images once: npm package {PACKAGE} {version} ({how_big}) from {rel.tarball}; "
            f"keeping up to {PER_CATEGORY} Noto emoji (64 px PNG) per category in {target}"
        )

    tarball = npm.download(rel, target.with_name(target.name + ".tgz.partial"), announce)
    try:
        files = dict(npm.members(tarball, _wanted))
    finally:
        tarball.unlink(missing_ok=True)
    _write(files, target)
    return target


def _wanted(name: str) -> bool:
    return name in (_DATA, _LICENSE, _README) or (name.startswith(_IMAGES) and name.endswith(".png"))


def select(emoji: list[dict[str, Any]], per_category: int | None = None) -> dict[str, str]:
    """``emoji.json``'s records -> {relative destination path: image file name in the package}.

    The destination is ``<category>/<short_name>.png``; records without a Google image, with a
    file name that is not plain hex, or in :data:`SKIPPED_CATEGORIES` are left out.
    ``per_category`` defaults to :data:`PER_CATEGORY`.
    """
    per_category = per_category or PER_CATEGORY
    by_category: dict[str, list[dict[str, Any]]] = {}
    for record in sorted(emoji, key=lambda r: int(r.get("sort_order", 0))):
        category = str(record.get("category", ""))
        image = str(record.get("image", ""))
        if record.get("has_img_google") and category and category not in SKIPPED_CATEGORIES and _IMAGE_NAME.fullmatch(image):
            by_category.setdefault(category, []).append(record)
    chosen: dict[str, str] = {}
    for category, records in by_category.items():
        step = max(1, len(records) / per_category)
        for i in range(min(per_category, len(records))):
            record = records[int(i * step)]
            name = str(record.get("short_name", ""))
            stem = name if _SHORT_NAME.fullmatch(name) else record["image"][: -len(".png")]
            chosen[f"{safe_folder(category)}/{stem}.png"] = record["image"]
    return chosen


def safe_folder(label: str) -> str:
    """A label as a folder name every OS accepts ('Smileys & Emotion' stays; 'a/b' -> 'a_b')."""
    return _WINDOWS_FORBIDDEN.sub("_", label).strip(" .") or "_"


def _write(files: dict[str, bytes], target: Path) -> None:
    missing = [n for n in (_DATA, _LICENSE) if n not in files]
    if missing:
        raise npm.FetchError(f"the {PACKAGE} tarball lacks {', '.join(missing)}; it is not the package expected")
    emoji = json.loads(files[_DATA])
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    for dest, image in select(emoji).items():
        data = files.get(_IMAGES + image)
        if data is None:
            continue  # listed in emoji.json but not shipped at 64 px: nothing to show
        (staging / dest).parent.mkdir(parents=True, exist_ok=True)
        (staging / dest).write_bytes(data)
    (staging / "LICENSE-emoji-data.txt").write_bytes(files[_LICENSE])
    (staging / "LICENSE-noto-emoji-images.txt").write_text(_image_licence(files.get(_README, b"")), encoding="utf-8")
    (staging / ".complete").write_text("ok\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def _image_licence(readme: bytes) -> str:
    # The tarball's LICENSE covers the data and code (MIT); the images' own licence is stated in
    # its README, so those lines are copied too, with where the full Apache-2.0 text lives.
    lines = [
        ln for ln in readme.decode("utf-8", "replace").splitlines()
        if "licen" in ln.lower() and ("noto" in ln.lower() or "google" in ln.lower())
    ]
    return (
        f"The images in this folder are Google's Noto Emoji, as shipped in the npm package {PACKAGE}.\n"
        "They are available under the Apache License 2.0: https://github.com/googlefonts/noto-emoji/blob/main/LICENSE\n"
        "(full text: https://www.apache.org/licenses/LICENSE-2.0). The package's README says:\n\n"
        + "\n".join(lines) + "\n"
    )
