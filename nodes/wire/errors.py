"""Typed decode errors. Every parser raises a subclass of :class:`WireError` for bad
input; the stack turns it into a counted drop named by ``counter``."""

from __future__ import annotations

from typing import ClassVar


class WireError(ValueError):
    """A frame or packet that cannot be decoded. ``counter`` names the drop counter."""

    counter: ClassVar[str] = "malformed"

    def __init__(self, layer: str, message: str) -> None:
        super().__init__(f"{layer}: {message}")
        self.layer = layer


class Truncated(WireError):
    """Fewer bytes than a header or a length field requires."""

    counter: ClassVar[str] = "truncated"


class BadChecksum(WireError):
    """A checksum that does not verify."""

    counter: ClassVar[str] = "bad_checksum"


class Malformed(WireError):
    """A field with a value the protocol forbids (version, header length, option length...)."""

    counter: ClassVar[str] = "malformed"
