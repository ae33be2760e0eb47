"""Errors of the records stage. Each message starts with the file and the position."""

from __future__ import annotations

from reprisma.errors import ReprismaError


class RawResponseError(ReprismaError, ValueError):
    """A raw service response that cannot be parsed into records.

    ``str(err)`` reads ``<path>: line L, column C: <what is wrong>`` (columns count from 1).
    The parts are also attributes: ``path``, ``line``, ``column``, ``reason``.
    """

    def __init__(self, path: str, line: int | None, column: int | None, reason: str):
        self.path, self.line, self.column, self.reason = path, line, column, reason
        where = path
        if line is not None:
            where += f": line {line}" + (f", column {column}" if column is not None else "")
        super().__init__(f"{where}: {reason}")


class RecordError(ReprismaError, ValueError):
    """A record that does not match workflow/schemas/record.schema.json, or a bad records.jsonl line."""
