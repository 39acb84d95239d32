"""Draw the Teams app icons as PNG files, with the standard library only.

color.png (192x192): a white speech bubble with a blue "redaction" bar, on NHS blue.
outline.png (32x32): the same bubble as a white outline on a transparent background,
as Teams asks for. Run ``python deploy/teams/make_icons.py`` to redraw them.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BLUE = (0, 94, 184, 255)  # NHS blue, #005EB8
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)

Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[float, float], Pixel]) -> bytes:
    """A PNG (8-bit RGBA) whose pixel at (x, y) is ``pixel(u, v)``, u and v in 0..1."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows.extend(pixel((x + 0.5) / width, (y + 0.5) / height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _in_bubble(u: float, v: float, inset: float = 0.0) -> bool:
    """Inside a rounded speech bubble (with a tail at the bottom left)."""
    left, top, right, bottom, radius = 0.16 + inset, 0.2 + inset, 0.84 - inset, 0.68 - inset, 0.1
    cx = min(max(u, left + radius), right - radius)
    cy = min(max(v, top + radius), bottom - radius)
    if left <= u <= right and top <= v <= bottom and (u - cx) ** 2 + (v - cy) ** 2 <= radius**2:
        return True
    # The tail: a triangle under the bubble's left side.
    if bottom - 0.01 <= v <= 0.84 - inset * 2 and inset == 0.0:
        t = (v - bottom) / (0.84 - bottom)
        return 0.28 <= u <= 0.44 - 0.16 * t
    return False


def _in_bar(u: float, v: float) -> bool:
    return 0.28 <= u <= 0.72 and 0.4 <= v <= 0.48


def color(u: float, v: float) -> Pixel:
    if _in_bar(u, v):
        return BLUE
    return WHITE if _in_bubble(u, v) else BLUE


def outline(u: float, v: float) -> Pixel:
    if _in_bar(u, v):
        return WHITE
    if _in_bubble(u, v) and not _in_bubble(u, v, inset=0.07):
        return WHITE
    return CLEAR


def main() -> None:
    (HERE / "color.png").write_bytes(png(192, 192, color))
    (HERE / "outline.png").write_bytes(png(32, 32, outline))
    print(f"wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")


if __name__ == "__main__":
    main()
