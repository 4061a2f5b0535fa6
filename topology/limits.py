"""Input limits of topology files: whatever the input, loading answers with a positioned
:class:`~topology.errors.TopologyError` in bounded time, never an internal error.

* size: at most :data:`MAX_BYTES` (1 MiB) of UTF-8 text; the largest example is 2 KiB and a
  1000-node lab about 80 KiB;
* characters: text only; NUL and the other control characters YAML refuses (all of C0 but
  tab, newline and carriage return; DEL; C1 but NEL; lone surrogates; U+FFFE/U+FFFF) are
  named with their position instead of failing inside the YAML reader;
* nesting: at most :data:`MAX_DEPTH` levels of lists and mappings (a topology needs 6), so a
  deeply nested file cannot exhaust the stack;
* aliases: at most :data:`MAX_ALIASES`, never one inside its own anchor, and the document
  expanded (every alias replaced by what it names) holds at most :data:`MAX_VALUES` values
  (a 1000-node lab has about 14 000): a "billion laughs" file fails at its first levels,
  before anything is expanded;
* problems: the first :data:`MAX_DIAGNOSTICS` by position are reported, and how many more
  there are; a file with more structural problems than that is not cross-checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_ALIASES = 1000
MAX_VALUES = 100_000
MAX_DIAGNOSTICS = 100  # a file with more problems reports the first ones and a count

# Characters the YAML reader refuses (PyYAML's and libyaml's printable set, inverted).
_NOT_TEXT = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "backspace", 0x0B: "vertical tab", 0x0C: "form feed",
          0x1B: "ESC", 0x7F: "DEL"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TextProblem:
    line: int  # 1-based
    column: int  # 1-based
    message: str


def _position(text: str, index: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _byte_offset_index(text: str, limit: int) -> int:
    """The index of the first character that ends past ``limit`` bytes of UTF-8."""
    lo, hi = 0, min(len(text), limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(text[:mid].encode("utf-8", "surrogatepass")) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def check_text(text: str) -> TextProblem | None:
    """The first limit ``text`` breaks before it is parsed: its size or a character that is
    not text."""
    size = len(text) if len(text) > MAX_BYTES else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        index = _byte_offset_index(text, MAX_BYTES)
        line, column = _position(text, index)
        shown = f"{size / (1 << 20):.1f} MiB" if len(text) <= MAX_BYTES else "more than 1 MiB"
        return TextProblem(
            line, column, f"file too large ({shown}): a topology may be at most 1 MiB; this is "
            "where it crosses the limit"
        )  # fmt: skip
    bad = _NOT_TEXT.search(text)
    if bad is not None:
        code = ord(bad.group())
        name = _NAMES.get(code, "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "")
        label = f"U+{code:04X}" + (f" ({name})" if name else "")
        line, column = _position(text, bad.start())
        return TextProblem(
            line, column, f"control character {label} is not allowed: a topology file is text"
        )
    return None
