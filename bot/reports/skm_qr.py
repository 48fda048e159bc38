# A printable QR code for a service counter: it opens the SKM survey in Telegram with the
# service preselected (https://t.me/<bot>?start=skm_<code>), with the office name and the
# service name printed under it, then the link itself as text (for a phone that cannot scan)
# and, when WhatsApp is configured, the wa.me link that opens the survey there; as PNG
# (Pillow) or SVG (qrcode's SVG image plus text).
# Invariants: the encoded text is exactly deep_link(); error correction M survives a
# scuffed or laminated print; a quiet zone of 4 modules as the QR standard requires.
from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree as ET

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from bot.config.office import Office, Service

BOX = 12  # pixels per module in the PNG: about 4 cm wide at 300 dpi for a version-3 code
BORDER = 4
CAPTION = "Survei Kepuasan Masyarakat: pindai untuk mengisi"
# Telegram allows 1-64 characters A-Z, a-z, 0-9, _ and - in a start parameter.
_START_PARAM = re.compile(r"[A-Za-z0-9_-]{1,64}")


class UnknownService(ValueError):
    pass


def find_service(office: Office, text: str) -> Service:
    """The office's service by code (or name), case-insensitively; UnknownService otherwise."""
    key = " ".join(text.split()).casefold()
    for sv in office.services:
        if key in (sv.code.casefold(), " ".join(sv.name.split()).casefold()):
            return sv
    known = ", ".join(f"{sv.code} ({sv.name})" for sv in office.services)
    raise UnknownService(f"Kode layanan tidak dikenal: '{text}'. Kode yang ada: {known}.")


def deep_link(bot_username: str, service_code: str) -> str:
    param = f"skm_{service_code}"
    if not _START_PARAM.fullmatch(param):
        raise ValueError(f"Kode layanan '{service_code}' tidak dapat dipakai di tautan Telegram: "
                         "hanya huruf, angka, _ dan -, paling banyak 60 karakter.")
    return f"https://t.me/{bot_username.lstrip('@')}?start={param}"


def whatsapp_link(number: str) -> str:
    """wa.me link that opens a chat with the office with "survei" typed in, ready to send."""
    return f"https://wa.me/{number}?text=survei"


def link_lines(link: str, whatsapp_number: str | None) -> list[str]:
    """The links printed under the code, without "https://" (shorter, and still what a
    person types into a browser)."""
    lines = [f"Telegram: {link.removeprefix('https://')}"]
    if whatsapp_number:
        lines.append(f"WhatsApp: {whatsapp_link(whatsapp_number).removeprefix('https://')}")
    return lines


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of the code (quiet zone included), for checks and for drawing."""
    return _qr(data).get_matrix()


def _qr(data: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=BOX,
                       border=BORDER)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def _wrap(text: str, fits: Callable[[str], bool]) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and fits(f"{lines[-1]} {word}"):
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)  # a single word too long for the line still gets its own line
    return lines or [""]


def _lines(office: Office, service: Service, fits: Callable[[str, bool], bool]) -> list[tuple[str, bool]]:
    """(text, bold) lines under the code, wrapped to the code's width."""
    out: list[tuple[str, bool]] = []
    for text, bold in ((office.name, True), (service.name, True), (CAPTION, False)):
        def fits_line(line: str, bold: bool = bold) -> bool:
            return fits(line, bold)

        out += [(line, bold) for line in _wrap(text, fits_line)]
    return out


@lru_cache(maxsize=4)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # matplotlib (a dependency anyway) ships DejaVu Sans: the same letters on every machine.
    try:
        import matplotlib

        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)


def qr_png(link: str, office: Office, service: Service, links: Sequence[str] = ()) -> bytes:
    qr = _qr(link)
    code = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    width = code.width
    size = max(18, width // 18)
    margin = BOX * 2
    probe = ImageDraw.Draw(code)

    def fits(text: str, bold: bool) -> bool:
        left, _, right, _ = probe.textbbox((0, 0), text, font=_font(size, bold))
        return right - left <= width - 2 * margin

    lines = _lines(office, service, fits)
    line_h = int(size * 1.4)
    # A link has no spaces to wrap at: it gets the largest font (up to 3/4 of the caption's)
    # at which it fits the card's width.
    link_fonts = []
    for text in links:
        small = max(10, size * 3 // 4)
        while small > 10 and probe.textlength(text, font=_font(small, False)) > width - 2 * BOX:
            small -= 1
        link_fonts.append(small)
    links_h = sum(int(f * 1.4) for f in link_fonts)
    canvas = Image.new("RGB", (width, code.height + line_h * len(lines) + links_h + BOX * 2), "white")
    canvas.paste(code, (0, 0))
    draw = ImageDraw.Draw(canvas)
    # Text starts below the whole quiet zone: a scanner needs those 4 empty modules.
    y = code.height
    for text, bold in lines:
        font = _font(size, bold)
        left, _, right, _ = draw.textbbox((0, 0), text, font=font)
        draw.text(((width - (right - left)) / 2, y), text, fill="black", font=font)
        y += line_h
    for text, small in zip(links, link_fonts, strict=True):
        font = _font(small, False)
        draw.text(((width - draw.textlength(text, font=font)) / 2, y), text, fill="black", font=font)
        y += int(small * 1.4)
    buf = io.BytesIO()
    canvas.save(buf, format="PNG", dpi=(300, 300))
    return buf.getvalue()


def qr_svg(link: str, office: Office, service: Service, links: Sequence[str] = ()) -> bytes:
    import qrcode.image.svg

    qr = _qr(link)
    img = qr.make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    root = img.get_image()
    # qrcode sizes the SVG in mm with a viewBox in the same units (box_size 12 -> 1.2 mm).
    side = float(img.units(img.pixel_size, text=False))
    unit = float(img.units(BOX, text=False))
    font_size = side / 18

    def fits(text: str, bold: bool) -> bool:
        # No font metrics in SVG: DejaVu Sans averages about 0.6 em per character (bold 0.65).
        return len(text) * font_size * (0.65 if bold else 0.6) <= side - 4 * unit

    lines = _lines(office, service, fits)
    line_h = font_size * 1.4
    # Links in a smaller size that fits the width (same character-width estimate as fits()).
    link_sizes = [min(font_size * 0.75, (side - 2 * unit) / (max(1, len(t)) * 0.6)) for t in links]
    height = (side + font_size + line_h * (len(lines) - 1) + sum(s * 1.4 for s in link_sizes)
              + font_size * 0.8)
    root.set("height", f"{height:.2f}mm")
    root.set("viewBox", f"0 0 {side:g} {height:.2f}")
    # The white background rect is 100% high, so it grows with the new height.
    # SVG text is placed by its baseline: one em down keeps the glyphs out of the quiet zone.
    y = side + font_size
    for text, bold in lines:
        el = ET.SubElement(root, "text", {
            "x": f"{side / 2:g}", "y": f"{y:.2f}", "text-anchor": "middle",
            "font-family": "DejaVu Sans, Arial, sans-serif", "font-size": f"{font_size:.2f}",
            "font-weight": "bold" if bold else "normal", "fill": "#000000",
        })
        el.text = text
        y += line_h
    y += -line_h + font_size * 0.4
    for text, small in zip(links, link_sizes, strict=True):
        y += small * 1.4
        el = ET.SubElement(root, "text", {
            "x": f"{side / 2:g}", "y": f"{y:.2f}", "text-anchor": "middle",
            "font-family": "DejaVu Sans, Arial, sans-serif", "font-size": f"{small:.2f}",
            "fill": "#000000",
        })
        el.text = text
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


def write_qr(out: Path, link: str, office: Office, service: Service,
             whatsapp_number: str | None = None) -> None:
    """The card for `service`: the code for `link`, the names, and the links as text."""
    suffix = out.suffix.lower()
    links = link_lines(link, whatsapp_number)
    if suffix == ".png":
        out.write_bytes(qr_png(link, office, service, links))
    elif suffix == ".svg":
        out.write_bytes(qr_svg(link, office, service, links))
    else:
        raise ValueError(f"Berkas keluaran harus .png atau .svg, bukan '{out.name}'.")


__all__ = ["UnknownService", "deep_link", "find_service", "link_lines", "qr_matrix", "qr_png",
           "qr_svg", "whatsapp_link", "write_qr"]
