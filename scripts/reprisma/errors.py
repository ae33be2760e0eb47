"""The one base of every error reprisma raises for something a user or the network can cause (a
malformed protocol, decision, override or import file, a raw response, a failed service). The stage
commands catch :class:`ReprismaError` and print its message, which names the file and, where there
is one, the line or position, on one line with no traceback.

Each stage's own class (``ProtocolError``, ``DecisionFileError``, ``ServiceError`` ...) derives from
it and, where it always did, from ``ValueError`` or ``RuntimeError`` too, so existing handlers keep
working."""

from __future__ import annotations

__all__ = ["ReprismaError"]


class ReprismaError(Exception):
    """A problem reprisma reports to its user: ``str()`` is the whole message (``FILE:LINE: what``
    where a file and line are known). ``path`` and ``line`` are set by the classes that know them."""

    path: str | None = None
    line: int | None = None
