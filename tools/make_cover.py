"""Draw the programme's cover (1400 × 1400 PNG) into web/static/cover.png.

Podcast directories ask for a square image of 1400 to 3000 pixels. The cover is a
simple geometric drawing made here, so it needs no font and carries no third-party art.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

SIZE = 1400


def draw() -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    image = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
    image[:] = (11, 46, 79)  # deep blue
    centre = SIZE / 2
    radius = np.hypot(x - centre, y - centre)
    for ring, colour in ((520, (255, 210, 77)), (440, (11, 46, 79)), (360, (255, 210, 77)), (280, (11, 46, 79))):
        image[radius < ring] = colour
    # A speech bubble in the middle: a disc and its tail.
    image[radius < 200] = (253, 253, 251)
    tail = (x > centre - 40) & (x < centre + 120) & (y > centre + 120) & (y < centre + 330) & (
        (x - (centre - 40)) > (y - (centre + 120)) * 0.75)
    image[tail & (radius < 360)] = (253, 253, 251)
    return image


def write_png(image: np.ndarray, path: Path) -> None:
    height, width, _ = image.shape
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
                     + chunk(b"IEND", b""))


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "web" / "static" / "cover.png"
    write_png(draw(), target)
    print(f"{target} ({target.stat().st_size} octets)")
