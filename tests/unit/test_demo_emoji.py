"""The emoji demo set, fetched from a fake npm registry on this machine: verified, confined, labelled, cached."""
from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from deepviz.demo import DemoUnavailable, demo_images, emoji, npm
from deepviz.images.scan import scan
from tests.unit import fake_npm

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, so a fetch fails at once, as offline


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEEPVIZ_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _registry(tmp_path: Path, files: dict[str, bytes] | None = None) -> str:
    tgz = fake_npm.tarball(files or fake_npm.package_files(), tmp_path / "pkg.tgz")
    return fake_npm.registry(tmp_path / "registry", tgz)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_fetch_keeps_only_the_chosen_64px_images_and_the_licences(tmp_path: Path, cache: Path) -> None:
    messages: list[str] = []
    folder = demo_images(registry=_registry(tmp_path), echo=messages.append)
    assert _files(folder) == [
        ".complete", "Animals & Nature/dog.png", "LICENSE-emoji-data.txt", "LICENSE-noto-emoji-images.txt",
        "Smileys & Emotion/grinning.png", "Smileys & Emotion/smiley.png",
    ]
    assert (folder / "LICENSE-emoji-data.txt").read_text() == "The MIT License (MIT) fake"
    assert "Apache License 2.0" in (folder / "LICENSE-noto-emoji-images.txt").read_text()
    # Said what and how big before fetching; the tarball itself is not kept.
    assert len(messages) == 1 and emoji.PACKAGE in messages[0] and "kB)" in messages[0]
    assert not list(folder.parent.glob("*.tgz*"))


def test_labels_are_the_category_field(tmp_path: Path, cache: Path) -> None:
    found = scan(demo_images(registry=_registry(tmp_path), echo=lambda s: None), label_depth=1)
    assert dict(zip(found.paths, found.labels)) == {
        "Animals & Nature/dog.png": "Animals & Nature",
        "Smileys & Emotion/grinning.png": "Smileys & Emotion",
        "Smileys & Emotion/smiley.png": "Smileys & Emotion",
    }


def test_a_tampered_tarball_is_refused_and_deleted(tmp_path: Path, cache: Path) -> None:
    tgz = fake_npm.tarball(fake_npm.package_files(), tmp_path / "pkg.tgz")
    url = fake_npm.registry(tmp_path / "registry", tgz, integrity_of=b"what the registry published")
    with pytest.raises(DemoUnavailable, match="does not match the sha512"):
        demo_images(registry=url, echo=lambda s: None)
    assert not (cache / "demo").exists() or not any((cache / "demo").iterdir())


@pytest.mark.parametrize("evil", ["package/../../escaped.png", "/tmp/absolute.png", "C:\\evil.png", "package\\..\\x.png"])
def test_a_tarball_naming_a_file_outside_the_package_is_refused(tmp_path: Path, cache: Path, evil: str) -> None:
    files = fake_npm.package_files() | {evil: fake_npm.png((9, 9, 9))}
    with pytest.raises(DemoUnavailable, match="outside the package folder"):
        demo_images(registry=_registry(tmp_path, files), echo=lambda s: None)
    assert not (tmp_path / "escaped.png").exists() and not (cache / "demo" / emoji.folder_name()).exists()


def test_a_cached_set_is_used_offline(tmp_path: Path, cache: Path) -> None:
    first = demo_images(registry=_registry(tmp_path), echo=lambda s: None)
    messages: list[str] = []
    assert demo_images(registry=CLOSED, echo=messages.append) == first
    assert messages == []


def test_offline_with_nothing_cached_says_what_to_do(cache: Path) -> None:
    with pytest.raises(DemoUnavailable) as caught:
        demo_images(registry=CLOSED, echo=lambda s: None)
    message = str(caught.value)
    assert "offline?" in message and "npm registry" in message and "--images FOLDER" in message


def test_a_missing_version_is_named(tmp_path: Path) -> None:
    tgz = fake_npm.tarball(fake_npm.package_files(), tmp_path / "pkg.tgz")
    with pytest.raises(npm.FetchError, match="no version 0.0.1"):
        npm.release(emoji.PACKAGE, "0.0.1", fake_npm.registry(tmp_path / "registry", tgz))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # the test's output is not the place for an access log


@pytest.fixture
def http_registry(tmp_path: Path) -> Iterator[str]:
    """The fake registry served over HTTP on loopback, the way the real one is reached."""
    folder = tmp_path / "served"
    folder.mkdir()
    tgz = fake_npm.tarball(fake_npm.package_files(), folder / "pkg.tgz")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    fake_npm.registry(folder, tgz)
    meta = (folder / emoji.PACKAGE).read_text().replace(tgz.resolve().as_uri(), f"{base}/pkg.tgz")
    (folder / emoji.PACKAGE).write_text(meta)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_fetch_over_http_reports_the_size_from_the_server(http_registry: str, cache: Path) -> None:
    messages: list[str] = []
    folder = demo_images(registry=http_registry, echo=messages.append)
    assert (folder / "Animals & Nature/dog.png").exists()
    size = len((cache.parent / "served" / "pkg.tgz").read_bytes())
    assert f"({size / 1e3:.0f} kB)" in messages[0]


def test_select_caps_each_category_evenly_and_skips_components() -> None:
    records = [
        {"image": f"{i:x}.png", "short_name": f"e{i}", "category": "Objects", "sort_order": i, "has_img_google": True}
        for i in range(10)
    ] + [
        {"image": "1f3fb.png", "short_name": "tone", "category": "Component", "sort_order": 99, "has_img_google": True},
        {"image": "../../x.png", "short_name": "bad", "category": "Objects", "sort_order": 100, "has_img_google": True},
    ]
    assert emoji.select(records, per_category=5) == {f"Objects/e{i}.png": f"{i:x}.png" for i in (0, 2, 4, 6, 8)}


@pytest.mark.parametrize(("label", "folder"), [
    ("Smileys & Emotion", "Smileys & Emotion"), ("a/b", "a_b"), ('what?:"', "what___"), ("..", "_"), ("", "_"),
])
def test_category_folders_are_valid_on_every_os(label: str, folder: str) -> None:
    assert emoji.safe_folder(label) == folder


def test_a_tarball_without_the_emoji_list_is_not_taken_for_the_package(tmp_path: Path, cache: Path) -> None:
    files = {k: v for k, v in fake_npm.package_files().items() if k != "package/emoji.json"}
    with pytest.raises(DemoUnavailable, match="lacks package/emoji.json"):
        demo_images(registry=_registry(tmp_path, files), echo=lambda s: None)
    assert not (cache / "demo" / emoji.folder_name()).exists()
