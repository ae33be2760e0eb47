"""Opening a raw response: a path or an open stream, gzip (as snapshots store it) or plain."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"


def display_name(stream_or_path, raw_file: str) -> str:
    """What error messages call the input: the real path when known, else the snapshot path."""
    if isinstance(stream_or_path, (str, os.PathLike)):
        name = os.fspath(stream_or_path)
    else:
        name = getattr(stream_or_path, "name", None)
        if isinstance(name, bytes):
            name = os.fsdecode(name)
        if not isinstance(name, str) or not name:
            return raw_file
    if raw_file and not Path(name).as_posix().endswith(Path(raw_file).as_posix()):
        return f"{name} (raw file {raw_file})"
    return name


@contextlib.contextmanager
def open_raw(stream_or_path):
    """A readable stream of the decompressed content (bytes, or str for a text stream).

    Gzip is recognised by its magic number, so ``.xml.gz`` and ``.xml`` (and already opened
    ``gzip.open`` streams) all work. A stream passed in is not closed.
    """
    if isinstance(stream_or_path, (str, os.PathLike)):
        with open(stream_or_path, "rb") as f:
            with _maybe_gunzip(f) as inner:
                yield inner
        return
    stream = stream_or_path
    if isinstance(stream, io.TextIOBase):
        yield stream
        return
    if not hasattr(stream, "peek"):
        stream = io.BufferedReader(_NoClose(stream))
    with _maybe_gunzip(stream) as inner:
        yield inner


@contextlib.contextmanager
def _maybe_gunzip(f):
    if f.peek(2)[:2] == GZIP_MAGIC:
        with gzip.GzipFile(fileobj=f, mode="rb") as gz:
            yield gz
    else:
        yield f


class _NoClose(io.RawIOBase):
    """Adapts any object with ``read`` to a raw stream so it can be buffered (and peeked)."""

    def __init__(self, f):
        self._f = f

    def readable(self):
        return True

    def readinto(self, b):
        data = self._f.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def close(self):  # the caller owns the stream
        pass
