"""Reading the text files people edit or tools export (decision files, the removed-records file,
ASReview and Rayyan exports): UTF-8 with or without a byte order mark, problems located by file,
line and byte, lines split at LF only. Also the one writer and reader of the stage tables the
workflow passes between its rules (``results/<id>/*.tsv``).

Excel writes a BOM in front of "CSV UTF-8" files and can save "Unicode Text" as UTF-16; a
Latin-1 / Windows-1252 file is the usual reason a file is not UTF-8.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from reprisma.errors import ReprismaError

__all__ = ["TextFileError", "read_text", "read_tsv", "split_lines", "tsv_text"]


class TextFileError(ReprismaError, ValueError):
    """A file that cannot be read as text: ``path``, ``line`` (None when it concerns the whole
    file) and ``message``; ``str()`` is ``FILE:LINE: message`` (``FILE: message`` without a line)."""

    def __init__(self, path, line: int | None, message: str):
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}")


def read_text(path: str | Path, *, utf16: bool = False) -> str:
    """The text of ``path``: UTF-8, a leading BOM dropped; UTF-16 with a BOM too when ``utf16``.

    Raises :class:`TextFileError` for a missing or unreadable file, a UTF-16 file (unless
    ``utf16``) and bytes that are not UTF-8 (with the line, the byte's position in the line and
    its offset in the file, counted in the file as it is, BOM included).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TextFileError(path, None, "no such file") from None
    except IsADirectoryError:
        raise TextFileError(path, None, "is a folder, not a file") from None
    except OSError as exc:
        raise TextFileError(path, None, f"cannot read ({exc.strerror})") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if utf16:
            return raw.decode("utf-16")
        raise TextFileError(path, 1, "the file is UTF-16 (Excel's 'Unicode Text'); save it as UTF-8")
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        pos = start + exc.start
        line_start = raw.rfind(b"\n", 0, pos) + 1
        raise TextFileError(
            path, raw.count(b"\n", 0, pos) + 1,
            f"not UTF-8 text: byte 0x{raw[pos]:02x} at byte {pos - line_start + 1} of the line (byte offset "
            f"{pos} in the file); save the file as UTF-8 (e.g. Latin-1/Windows-1252 is not accepted)",
        ) from None


def split_lines(text: str) -> list[str]:
    """Lines split at LF only, a CR before the LF dropped (str.splitlines() would also split at
    U+2028, U+0085 and form feeds, which may be text inside a field, and shift line numbers)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def tsv_text(rows: list[dict], columns: list[str]) -> str:
    """A stage table as TSV text: a header of ``columns``, one line per row (other keys ignored),
    booleans as ``true`` / ``false``, LF line ends."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, delimiter="\t", lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: ("true" if v is True else "false" if v is False else v) for k, v in row.items()})
    return buf.getvalue()


def read_tsv(path: str | Path) -> list[dict]:
    """A stage table written by :func:`tsv_text`, ``true`` / ``false`` read back as booleans."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for row in rows:
        for k, v in row.items():
            if v in ("true", "false"):
                row[k] = v == "true"
    return rows
