"""Info cards drawn as 1920×1080 pictures with Pillow (pure: content and ``now`` in, image out).

Made to be read from a sofa 3 m away: a title band in the city's colours (the blue of Chartres'
stained glass, a gold accent), at most six lines of 68-px bold text (never under 52 px: a line
too long is set smaller, then cut with an ellipsis), values in gold after their label, the hour
of the data at the foot (no clock: a card may air for an hour), everything inside the title-safe area (5 % of each side).
``RenderedCard.boxes`` holds the box of every text drawn, so that tests (and previews) can check
that it fits.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from city_feeds.cards.content import CardContent, CardLine
from city_feeds.cards.typography import NBSP

WIDTH, HEIGHT = 1920, 1080
SAFE_X, SAFE_Y = WIDTH // 20, HEIGHT // 20  # the title-safe area: 5 % of each side
BAND_HEIGHT = 200
STRIPE_HEIGHT = 10
TITLE_SIZE = 96
CITY = "Chartres"
CITY_SIZE = 72
LINE_SIZE = 68
MIN_LINE_SIZE = 52
LINE_STEP = 112
LINES_TOP = BAND_HEIGHT + STRIPE_HEIGHT + 60
FOOT_SIZE = 40
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
BOLD = "DejaVuSans-Bold.ttf"
REGULAR = "DejaVuSans.ttf"
ELLIPSIS = "…"
Box = tuple[int, int, int, int]
Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """The city's colours (RGB)."""

    background: Colour = (22, 58, 122)  # "bleu de Chartres"
    band: Colour = (10, 30, 70)
    accent: Colour = (242, 183, 5)  # gold
    text: Colour = (255, 255, 255)
    muted: Colour = (196, 208, 230)


CHARTRES = Palette()


@dataclass(frozen=True)
class RenderedCard:
    image: Image.Image
    boxes: tuple[Box, ...]  # every text drawn, in pixels (left, top, right, bottom)


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size)


def text_width(text: str, face: ImageFont.FreeTypeFont) -> float:
    return face.getlength(text)


def shortened(text: str, face: ImageFont.FreeTypeFont, width: float) -> str:
    """``text`` cut at a word (or a character) with an ellipsis so that it fits ``width``."""
    if text_width(text, face) <= width:
        return text
    words = text.split(" ")
    while len(words) > 1 and text_width(" ".join(words) + ELLIPSIS, face) > width:
        words.pop()
    cut = " ".join(words)
    while cut and text_width(cut + ELLIPSIS, face) > width:
        cut = cut[:-1]
    return cut.rstrip(" ,;:·" + NBSP) + ELLIPSIS


def fitting_size(text: str, *, name: str, size: int, minimum: int, width: float) -> int:
    """The largest size from ``size`` down to ``minimum`` at which ``text`` fits ``width``."""
    while size > minimum and text_width(text, font(name, size)) > width:
        size -= 2
    return size


class Canvas:
    """A picture being drawn, remembering the box of every text."""

    def __init__(self, palette: Palette) -> None:
        self.image = Image.new("RGB", (WIDTH, HEIGHT), palette.background)
        self.draw = ImageDraw.Draw(self.image)
        self.boxes: list[Box] = []

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        face: ImageFont.FreeTypeFont,
        fill: Colour,
        anchor: str = "ls",
    ) -> float:
        """Draw ``text`` with its baseline at ``xy`` (``anchor``); returns its right edge."""
        box = self.draw.textbbox(xy, text, font=face, anchor=anchor)
        self.draw.text(xy, text, font=face, fill=fill, anchor=anchor)
        self.boxes.append((int(box[0]), int(box[1]), int(box[2]), int(box[3])))
        return float(box[2])


def draw_band(canvas: Canvas, content: CardContent, *, palette: Palette) -> None:
    """The title band: the card's title, the city's name in gold, the gold stripe under it."""
    canvas.draw.rectangle((0, 0, WIDTH, BAND_HEIGHT), fill=palette.band)
    canvas.draw.rectangle((0, BAND_HEIGHT, WIDTH, BAND_HEIGHT + STRIPE_HEIGHT), fill=palette.accent)
    baseline = BAND_HEIGHT - 62
    city = font(BOLD, CITY_SIZE)
    canvas.text((WIDTH - SAFE_X, baseline), CITY, city, palette.accent, anchor="rs")
    room = WIDTH - 2 * SAFE_X - text_width(CITY, city) - 60
    size = fitting_size(
        content.title, name=BOLD, size=TITLE_SIZE, minimum=MIN_LINE_SIZE, width=room
    )
    face = font(BOLD, size)
    canvas.text((SAFE_X, baseline), shortened(content.title, face, room), face, palette.text)


def _line(canvas: Canvas, line: CardLine, *, baseline: int, palette: Palette) -> None:
    room = WIDTH - 2 * SAFE_X
    size = fitting_size(line.text, name=BOLD, size=LINE_SIZE, minimum=MIN_LINE_SIZE, width=room)
    face = font(BOLD, size)
    if not line.value:
        canvas.text((SAFE_X, baseline), shortened(line.label, face, room), face, palette.text)
        return
    colon = f"{NBSP}: "
    label = shortened(line.label, face, room * 0.6 - text_width(colon, face)) + colon
    right = canvas.text((SAFE_X, baseline), label, face, palette.text)
    value = shortened(line.value, face, SAFE_X + room - right)
    canvas.text((right, baseline), value, face, palette.accent)


def _foot(canvas: Canvas, content: CardContent, *, palette: Palette) -> None:
    if content.foot:
        face = font(REGULAR, FOOT_SIZE)
        foot = shortened(content.foot, face, WIDTH - 2 * SAFE_X)
        canvas.text((SAFE_X, HEIGHT - SAFE_Y), foot, face, palette.muted, anchor="ld")


def render_card(content: CardContent, *, palette: Palette = CHARTRES) -> RenderedCard:
    """The card as a 1920×1080 RGB picture."""
    canvas = Canvas(palette)
    draw_band(canvas, content, palette=palette)
    for number, line in enumerate(content.lines[:6]):
        baseline = LINES_TOP + LINE_SIZE + number * LINE_STEP
        _line(canvas, line, baseline=baseline, palette=palette)
    _foot(canvas, content, palette=palette)
    return RenderedCard(image=canvas.image, boxes=tuple(canvas.boxes))
