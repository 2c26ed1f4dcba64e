r"""How a file name is stored in a project as text, losslessly, and turned back into the name to open.

A file name on Linux is bytes, and not every byte string is UTF-8; Python hands such names
over with surrogate escapes, which Parquet (and JSON, and a terminal) cannot take. A project
therefore stores each path as *text* in which:

* a backslash is written ``\\`` (two backslashes);
* a byte that is not part of valid UTF-8 is written ``\xNN`` (two lowercase hex digits);
* a character that would change how the text around it is shown — a control character
  (U+0000–U+001F, U+007F–U+009F: newline, tab, ...), a line or paragraph separator
  (U+2028, U+2029) or a bidirectional formatting character (U+061C, U+200E, U+200F,
  U+202A–U+202E, U+2066–U+2069) — is written as the ``\xNN`` escapes of its UTF-8 bytes
  (a newline is ``\x0a``, a tab ``\x09``);
* every other character is itself, and "/" separates folders.

So a stored path is one printable line, the same text everywhere (the image table, the
rejects table, ``--list-files``, ``deepviz info``, the API), and a name without backslashes,
control characters or invalid UTF-8 — nearly every name — is stored as it is.

To get the file name back, replace each ``\\`` by a backslash and each ``\xNN`` by the
byte NN, encode the rest as UTF-8: those bytes are the name. A backslash followed by
anything else stands for itself, so a path stored before this rule existed (a raw backslash
in it) still opens, unless it held one of those two sequences literally.

This module is a leaf: it imports nothing of deepviz, so the scanner, the extraction, the
project reader and the image-table writer share the one rule.
"""
from __future__ import annotations

import os
import re

__all__ = ["ESCAPED_CHARACTERS", "canonical", "escape", "unescape"]

# Code point ranges escape() writes as \xNN escapes (besides undecodable bytes): the backslash,
# control characters, line and paragraph separators, bidirectional formatting characters.
ESCAPED_CHARACTERS: tuple[tuple[int, int], ...] = (
    (0x5C, 0x5C), (0x00, 0x1F), (0x7F, 0x9F), (0x2028, 0x2029),
    (0x061C, 0x061C), (0x200E, 0x200F), (0x202A, 0x202E), (0x2066, 0x2069),
)
# The same, and U+DC80..U+DCFF: a name decoded from bytes with surrogateescape holds an
# invalid byte as one such lone surrogate.
_SPECIAL = re.compile(
    "[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ESCAPED_CHARACTERS)
    + "\udc80-\udcff]"
)
_ESCAPE = re.compile(r"\\(\\|x[0-9a-fA-F]{2})")


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    if "\udc80" <= char <= "\udcff":  # the byte surrogateescape could not decode
        return f"\\x{ord(char) - 0xDC00:02x}"
    return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8"))


def escape(name: str) -> str:
    r"""A file name or relative path, as ``os.scandir`` gives it, -> its stored text (see the module doc).

    The name of the bytes ``caf\xe9/a\nb.jpg`` (a Latin-1 é, a newline) is stored as ``caf\xe9/a\x0ab.jpg``.
    """
    if name.isascii() and not _SPECIAL.search(name):
        return name  # nearly every name: nothing to escape, whatever the file system's encoding
    # The name's bytes, re-decoded so that only invalid bytes become surrogates (on Windows
    # a lone UTF-16 surrogate becomes its three bytes, which are escaped in turn).
    text = os.fsencode(name).decode("utf-8", "surrogateescape")
    return _SPECIAL.sub(_escaped, text)


def unescape(stored: str) -> str:
    """Stored text -> the file name to open (``os.fsdecode`` of its bytes); the inverse of :func:`escape`."""
    if "\\" not in stored:
        return stored  # no escapes: the text is the name
    parts: list[bytes] = []
    start = 0
    for match in _ESCAPE.finditer(stored):
        parts.append(stored[start : match.start()].encode("utf-8", "surrogateescape"))
        token = match.group(1)
        parts.append(b"\\" if token == "\\" else bytes([int(token[1:], 16)]))
        start = match.end()
    parts.append(stored[start:].encode("utf-8", "surrogateescape"))
    return os.fsdecode(b"".join(parts))


def canonical(stored: str) -> str:
    """The stored text in its one canonical spelling: ``escape(unescape(stored))``.

    Unchanged for any text :func:`escape` wrote. A path stored before escaping existed (a raw
    backslash or newline in it) gets the spelling a scan gives today, so it is still recognised.
    """
    if not _SPECIAL.search(stored):
        return stored
    return escape(unescape(stored))
