"""Small real PNG pictures for the stand-in wiki's files: the encoder, a reader of their size, and the
drawings of the demo's files (``watcher/demo/data/thumbs/*.png``, made once with
``python -m watcher.demo.standins.pictures watcher/demo/data/thumbs``, and shipped as files).

PNG is written by hand (``zlib`` and ``struct``: signature, IHDR, one IDAT, IEND, 8-bit RGB, filter 0),
so the stand-in needs no imaging library. Each drawing is a few flat shapes in the colours of what the
file shows (an armband of wooden beads, a chair seen from below, a portrait, a church, a flounder, a
crassula), enough for a curator to tell the thumbnails apart in the demo.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["DRAWINGS", "PNG_SIGNATURE", "content_type", "encode_png", "png_size"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT = 240, 180

Colour = tuple[int, int, int]
Inside = Callable[[float, float], bool]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(width: int, height: int, pixels: Sequence[Colour]) -> bytes:
    """An 8-bit RGB PNG of ``pixels`` (row by row, ``width * height`` of them)."""
    if len(pixels) != width * height:
        raise ValueError(f"{len(pixels)} pixels for a {width}×{height} picture")
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type 0 (None) for every scanline
        for r, g, b in pixels[y * width : (y + 1) * width]:
            rows += bytes((r, g, b))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR; None for anything that is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def content_type(data: bytes) -> str:
    """The media type of a picture's bytes (PNG, JPEG or GIF), as a server would send it."""
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return "application/octet-stream"


# -- drawing ------------------------------------------------------------------------------------


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> Inside:
    return lambda x, y: ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0


def _rect(x0: float, y0: float, x1: float, y1: float) -> Inside:
    return lambda x, y: x0 <= x <= x1 and y0 <= y <= y1


def _polygon(*points: tuple[float, float]) -> Inside:
    def inside(x: float, y: float) -> bool:
        hit = False
        for (ax, ay), (bx, by) in zip(points, points[1:] + points[:1], strict=True):
            if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
                hit = not hit
        return hit

    return inside


def _paint(background: Callable[[int, int], Colour], shapes: Sequence[tuple[Inside, Colour]]) -> bytes:
    """Shapes over a background, later ones on top, sampled at each pixel's centre."""
    pixels: list[Colour] = []
    for y in range(HEIGHT):
        for x in range(WIDTH):
            colour = background(x, y)
            for inside, fill in shapes:
                if inside(x + 0.5, y + 0.5):
                    colour = fill
            pixels.append(colour)
    return encode_png(WIDTH, HEIGHT, pixels)


def _gradient(top: Colour, bottom: Colour) -> Callable[[int, int], Colour]:
    def at(x: int, y: int) -> Colour:
        t = y / (HEIGHT - 1)
        r, g, b = (round(a + (c - a) * t) for a, c in zip(top, bottom, strict=True))
        return r, g, b

    return at


def armband() -> bytes:
    """A ring of wooden beads on linen."""
    beads: list[tuple[Inside, Colour]] = []
    for n in range(18):
        angle = 2 * math.pi * n / 18
        cx, cy = 120 + 72 * math.cos(angle), 90 + 56 * math.sin(angle)
        wood = (139, 90, 43) if n % 2 else (160, 110, 60)
        beads += [(_ellipse(cx, cy, 11, 11), (92, 58, 28)), (_ellipse(cx, cy, 9, 9), wood)]
        beads.append((_ellipse(cx - 3, cy - 3, 2.5, 2.5), (214, 178, 128)))
    return _paint(_gradient((236, 228, 210), (214, 204, 182)), beads)


def chair() -> bytes:
    """A chair seen from below: the seat's frame, four legs, the stretchers between them."""
    dark, light = (96, 60, 30), (150, 100, 54)
    shapes: list[tuple[Inside, Colour]] = [
        (_rect(40, 30, 200, 150), dark),
        (_rect(48, 38, 192, 142), light),
        (_rect(60, 84, 180, 96), dark),
        (_rect(114, 44, 126, 136), dark),
    ]
    shapes += [(_rect(x, y, x + 22, y + 22), (70, 42, 20)) for x in (40, 178) for y in (30, 128)]
    return _paint(_gradient((200, 200, 204), (160, 160, 168)), shapes)


def portrait() -> bytes:
    """A long oval face with a long neck, dark hair and a blue coat, on ochre."""
    skin = (222, 176, 134)
    return _paint(
        _gradient((196, 140, 70), (150, 96, 44)),
        [
            (_polygon((70, 180), (90, 128), (150, 128), (170, 180)), (44, 70, 120)),
            (_rect(110, 96, 130, 134), skin),
            (_ellipse(120, 70, 26, 40), (40, 28, 24)),
            (_ellipse(120, 76, 21, 36), skin),
            (_rect(106, 68, 114, 71), (60, 80, 96)),
            (_rect(126, 68, 134, 71), (60, 80, 96)),
            (_rect(112, 96, 128, 99), (170, 70, 60)),
        ],
    )


def church() -> bytes:
    """A church with a spire under a pale sky, in sepia like a photograph of 1905."""
    wall, roof, dark = (188, 164, 128), (120, 92, 62), (70, 52, 36)
    return _paint(
        _gradient((232, 220, 196), (206, 190, 160)),
        [
            (_rect(0, 150, 240, 180), (150, 128, 96)),
            (_rect(50, 90, 170, 150), wall),
            (_polygon((44, 92), (110, 52), (176, 92)), roof),
            (_rect(170, 60, 200, 150), wall),
            (_polygon((166, 62), (185, 10), (204, 62)), roof),
            (_rect(98, 116, 122, 150), dark),
            (_ellipse(185, 84, 6, 9), dark),
        ],
    )


def flounder() -> bytes:
    """A flounder on sand: a flat brown oval with spots, a fan of tail, two eyes on one side."""
    body, spot = (128, 104, 70), (172, 120, 64)
    shapes: list[tuple[Inside, Colour]] = [
        (_polygon((186, 90), (226, 60), (226, 120)), body),
        (_ellipse(112, 90, 82, 50), body),
    ]
    shapes += [
        (_ellipse(x, y, 6, 5), spot) for x, y in ((90, 80), (120, 104), (140, 76), (100, 110), (160, 96))
    ]
    shapes += [(_ellipse(x, 70, 4, 4), (30, 30, 30)) for x in (52, 64)]
    return _paint(_gradient((220, 204, 160), (196, 176, 128)), shapes)


def crassula() -> bytes:
    """A crassula in a clay pot: round grey-green leaves with red edges."""
    shapes: list[tuple[Inside, Colour]] = [
        (_polygon((80, 120), (160, 120), (148, 176), (92, 176)), (176, 90, 56))
    ]
    for cx, cy, r in (
        (120, 64, 22),
        (92, 84, 20),
        (148, 84, 20),
        (104, 40, 16),
        (138, 42, 16),
        (120, 100, 18),
    ):
        shapes += [
            (_ellipse(cx, cy, r, r * 0.8), (170, 60, 60)),
            (_ellipse(cx, cy, r - 3, r * 0.8 - 3), (120, 150, 130)),
        ]
    return _paint(_gradient((236, 240, 236), (210, 218, 210)), shapes)


def placeholder() -> bytes:
    """A file without a picture of its own: a hill and a sun, the usual sign for an image."""
    return _paint(
        _gradient((214, 226, 238), (190, 204, 220)),
        [
            (_polygon((0, 180), (90, 90), (170, 180)), (120, 150, 120)),
            (_polygon((100, 180), (170, 110), (240, 180)), (90, 124, 96)),
            (_ellipse(180, 50, 18, 18), (240, 200, 90)),
        ],
    )


DRAWINGS: dict[str, Callable[[], bytes]] = {
    "armband.png": armband,
    "chair.png": chair,
    "portrait.png": portrait,
    "church.png": church,
    "flounder.png": flounder,
    "crassula.png": crassula,
    "placeholder.png": placeholder,
}


def main(argv: Sequence[str]) -> int:
    folder = Path(argv[0] if argv else "watcher/demo/data/thumbs")
    folder.mkdir(parents=True, exist_ok=True)
    for name, draw in DRAWINGS.items():
        data = draw()
        (folder / name).write_bytes(data)
        print(f"{folder / name}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
