"""User text on a terminal and in file names: names are the user's, so they are shown as
text and never obeyed.

A function's ``__name__``, an input's name (any ``**kwargs`` key) or a script's path can hold
anything: Rich markup such as ``[link=…]``, or escape sequences that recolour the terminal,
set its title or hide what follows.  Every front end passes such text through
:func:`printable` and shows it as plain text (a ``rich.text.Text``, never a markup string);
:func:`file_stem` turns a name into a file name that stays in the folder it is written to.

>>> printable("loss\\x1b[31m")
'loss\\\\x1b[31m'
>>> file_stem("../f#2")
'f-2'
"""

from __future__ import annotations

import re

STEM_LENGTH = 100  # characters kept of a name in a file name (file systems allow 255 bytes)


def printable(text: str) -> str:
    """``text`` with every character that a terminal would act on instead of showing (control
    characters, format characters such as bidirectional overrides, separators other than the
    space) written as its Python escape: ESC becomes the four characters ``\\x1b``, U+202E
    becomes ``\\u202e``.  Printable text is returned unchanged."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def file_stem(name: str) -> str:
    """A name as a file name without folders: ``<lambda>`` gives ``lambda``, ``f#2`` gives
    ``f-2``, ``../x`` gives ``x`` (only letters, digits, ``_``, ``.`` and ``-``; never
    empty, never hidden, at most ``STEM_LENGTH`` characters)."""
    stem = re.sub(r"[^\w.-]+", "-", str(name)).strip("-.")
    return stem[:STEM_LENGTH].rstrip("-.") or "graph"
