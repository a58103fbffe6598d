"""Renders the SVG icons in resources/icons to PNGs, a Windows .ico and a macOS .icns (QtSvg).

Run from anywhere: ``QT_QPA_PLATFORM=offscreen python packaging/render_icons.py``. The outputs are
committed, so builds never need this script; rerun it after editing an SVG.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
PLATFORM_ICONS = ROOT / "packaging" / "icons"

APP = "opro-studio"
MIME = "application-x-opro-project"
APP_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MIME_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types whose payload may be PNG, with their pixel size.
ICNS_TYPES = (
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic13", 256),
    (b"ic08", 256),
    (b"ic14", 512),
    (b"ic09", 512),
)


def render(svg: Path, size: int) -> QImage:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot parse {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):  # type: ignore[call-overload]  # stub wants bytes, runtime str
        raise SystemExit("PNG encoding failed")
    buf.close()
    return bytes(data.data())


def ico_bytes(images: dict[int, bytes]) -> bytes:
    """A multi-size .ico whose entries are PNG streams (supported since Windows Vista)."""
    count = len(images)
    header = struct.pack("<HHH", 0, 1, count)
    offset = len(header) + 16 * count
    directory = b""
    payload = b""
    for size, png in images.items():
        dim = 0 if size >= 256 else size  # 0 means 256 in the ICO directory
        directory += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        payload += png
        offset += len(png)
    return header + directory + payload


def icns_bytes(images: dict[int, bytes]) -> bytes:
    body = b"".join(
        kind + struct.pack(">I", 8 + len(images[size])) + images[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # QtSvg needs a GUI application for fonts/painting
    app_svg, mime_svg = ICONS / f"{APP}.svg", ICONS / f"{MIME}.svg"
    app_png = {s: png_bytes(render(app_svg, s)) for s in APP_SIZES}
    for size, data in app_png.items():
        (ICONS / f"{APP}-{size}.png").write_bytes(data)
    for size in MIME_SIZES:
        (ICONS / f"{MIME}-{size}.png").write_bytes(png_bytes(render(mime_svg, size)))
    PLATFORM_ICONS.mkdir(parents=True, exist_ok=True)
    (PLATFORM_ICONS / f"{APP}.ico").write_bytes(ico_bytes({s: app_png[s] for s in ICO_SIZES}))
    (PLATFORM_ICONS / f"{APP}.icns").write_bytes(icns_bytes(app_png))
    print(
        f"wrote {len(APP_SIZES) + len(MIME_SIZES)} PNGs to {ICONS} and .ico/.icns to {PLATFORM_ICONS}"
    )
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
