"""Reading one big JSON object member by member, streaming one array member item by item.

Only the standard library: ``json.JSONDecoder.raw_decode`` decodes each value from a growing text
buffer; the buffer is refilled (at least doubling, so the work stays linear) while a value is
incomplete, and consumed text is dropped. Lines and columns (both from 1) are tracked across
drops, so errors point into the file the way ``json.JSONDecodeError`` would.
"""

from __future__ import annotations

import codecs
import json

from reprisma.records.errors import RawResponseError

CHUNK = 1 << 16
_WS = " \t\n\r"
_DECODER = json.JSONDecoder()


class JsonObjectReader:
    """``members()`` yields ``(key, value)`` of the top-level object; the array under
    ``stream_key`` is yielded item by item as ``(stream_key + "[]", item)``."""

    def __init__(self, stream, name: str):
        self.stream, self.name = stream, name
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf, self.pos, self.eof = "", 0, False
        self.line, self.col = 1, 1  # position of buf[0]
        self.bytes_read = 0
        self.saw_stream = False

    # -- positions and errors
    def position(self, p: int) -> tuple[int, int]:
        nl = self.buf.count("\n", 0, p)
        if nl:
            return self.line + nl, p - self.buf.rfind("\n", 0, p)
        return self.line, self.col + p

    def error(self, reason: str, p: int | None = None) -> RawResponseError:
        line, col = self.position(self.pos if p is None else p)
        return RawResponseError(self.name, line, col, reason)

    # -- buffer
    def _fill(self, at_least: int = CHUNK) -> bool:
        """Append at least ``at_least`` more characters (or up to EOF); False when nothing came."""
        got = 0
        while got < at_least and not self.eof:
            try:
                data = self.stream.read(max(CHUNK, at_least - got))
            except (OSError, EOFError) as exc:  # truncated or corrupt gzip
                raise self.error(f"cannot read the compressed data: {exc}", len(self.buf)) from None
            if isinstance(data, bytes):
                text = self._decode(data, final=not data)
            else:
                text = data
            if not data:
                self.eof = True
            self.buf += text
            got += len(text)
        return got > 0

    def _decode(self, data: bytes, final: bool) -> str:
        try:
            text = self.decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            pending = len(exc.object) - len(data)
            good = exc.object[:exc.start].decode("utf-8", errors="replace")
            self.buf += good
            offset = self.bytes_read - pending + exc.start
            raise self.error(f"not UTF-8 (byte offset {offset})", len(self.buf)) from None
        self.bytes_read += len(data)
        return text

    def _drop(self) -> None:
        """Forget the text before ``pos`` (keeping line/column counting right)."""
        k = self.pos
        if k == 0:
            return
        self.line, self.col = self.position(k)
        self.buf, self.pos = self.buf[k:], 0

    def _skip_ws(self) -> bool:
        """Move past whitespace; False at end of data."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf):
                return True
            self._drop()
            if not self._fill():
                return False

    def _peek(self, expected: str) -> str:
        if not self._skip_ws():
            raise self.error(f"unexpected end of data, expected {expected}")
        return self.buf[self.pos]

    def _value(self, what: str):
        self._peek(what)
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._fill(len(self.buf)):
                    continue
                raise self.error(f"not valid JSON ({exc.msg})", exc.pos) from None
            if end == len(self.buf) and not self.eof and self._fill(len(self.buf)):
                continue  # a number or literal may go on in the next chunk
            self.pos = end
            return value

    # -- the document
    def members(self, stream_key: str):
        if self._peek("a JSON object") != "{":
            raise self.error("not valid JSON (expected a JSON object at the top level)")
        self.pos += 1
        first = True
        while True:
            c = self._peek("'}' or a key")
            if c == "}" and first:
                self.pos += 1
                break
            if not first:
                if c == "}":
                    self.pos += 1
                    break
                if c != ",":
                    raise self.error("not valid JSON (Expecting ',' delimiter)")
                self.pos += 1
                c = self._peek("a key")
            if c != '"':
                raise self.error("not valid JSON (Expecting property name enclosed in double quotes)")
            key = self._value("a key")
            if self._peek("':'") != ":":
                raise self.error("not valid JSON (Expecting ':' delimiter)")
            self.pos += 1
            first = False
            if key == stream_key and self._peek("a value") == "[":
                self.saw_stream = True
                yield from self._array_items(stream_key + "[]")
            else:
                yield key, self._value("a value")
            self._drop()
        if self._skip_ws():
            raise self.error("not valid JSON (Extra data)")

    def _array_items(self, label: str):
        self.pos += 1  # past "["
        if self._peek("']' or a value") == "]":
            self.pos += 1
            return
        while True:
            item = self._value("a value")
            self._drop()
            yield label, item
            c = self._peek("',' or ']'")
            self.pos += 1
            if c == "]":
                return
            if c != ",":
                self.pos -= 1
                raise self.error("not valid JSON (Expecting ',' delimiter)")
