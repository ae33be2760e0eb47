"""prisma.png (300 dpi) and prisma.pdf for manuscripts, rendered from prisma.svg by CairoSVG.

Both come from the same SVG bytes as reports/prisma.svg, so the three never disagree. The bytes
are deterministic: the PDF's creation and modification dates are the capture's finish time (not
the time of rendering), and the PNG carries a fixed pHYs chunk (300 dpi) and nothing else that
varies. Fonts come from the machine's fontconfig (Helvetica, Arial or their metric-compatible
substitutes), so another machine with other fonts may draw other pixels; two runs on one machine
give the same bytes.
"""

from __future__ import annotations

import struct
import zlib

from reprisma.errors import ReprismaError

DPI = 300
CSS_DPI = 96  # SVG user units are CSS pixels: 96 per inch


class ImageExportError(ReprismaError, RuntimeError):
    pass


def _cairosvg():
    try:
        import cairosvg.surface
    except OSError as e:  # cairocffi could not load libcairo
        raise ImageExportError(f"cannot render prisma.png / prisma.pdf: the cairo library is missing ({e}); "
                               "install Debian's libcairo2 (make run does it as root: scripts/install_cairo.sh)") from None
    return cairosvg


def _pdf_surface(meta: dict):
    cairosvg = _cairosvg()
    import cairocffi

    class PDFSurface(cairosvg.surface.PDFSurface):
        def _create_surface(self, width, height):
            surface, width, height = super()._create_surface(width, height)
            surface.set_metadata(cairocffi.PDF_METADATA_TITLE, meta["title"])
            surface.set_metadata(cairocffi.PDF_METADATA_CREATOR, meta["creator"])
            surface.set_metadata(cairocffi.PDF_METADATA_CREATE_DATE, meta["date"])
            surface.set_metadata(cairocffi.PDF_METADATA_MOD_DATE, meta["date"])
            return surface, width, height

    return PDFSurface


def svg_to_pdf(svg: str, *, title: str, date: str, creator: str = "reprisma") -> bytes:
    """``date``: ISO 8601 (``2026-11-23T01:25:44Z``), written as the PDF's creation and mod date."""
    surface = _pdf_surface({"title": title, "creator": creator, "date": date})
    return surface.convert(svg.encode("utf-8"))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def with_dpi(png: bytes, dpi: int) -> bytes:
    """The PNG with a pHYs chunk saying ``dpi`` (cairo writes none), right after IHDR."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ImageExportError("not a PNG written by cairo")
    ihdr_end = 8 + 8 + struct.unpack(">I", png[8:12])[0] + 4
    per_metre = round(dpi / 0.0254)
    return png[:ihdr_end] + _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)) + png[ihdr_end:]


def svg_to_png(svg: str, dpi: int = DPI) -> bytes:
    """The diagram at ``dpi``: its CSS-pixel size scaled by dpi/96, on white."""
    cairosvg = _cairosvg()
    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=dpi / CSS_DPI, background_color="white")
    return with_dpi(png, dpi)
