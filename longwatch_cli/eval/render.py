"""Paints an episode into a video file: the family's scene, its messages at their times, a mover, noise.

Hard text is made hard in the picture (small, faint, blurred or slanted), so OCR makes its real
mistakes; nothing downstream edits what OCR reads. The frame rate is the sample rate (1 fps by
default), so every frame is a sampled frame and a 10,000-frame haystack is 2 h 47 min of stream.
Frames are composed once per distinct state (which messages are on, where the mover is) and only
the sensor noise changes between identical states, which keeps a long haystack cheap to write.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from longwatch_cli.eval.episode import Episode, Hardness, Show, Slot
from longwatch_cli.eval.families import Family, Style, get_family

WIDTH, HEIGHT = 640, 360
NOISE_PATTERNS = 8  # drawn once per episode and picked at random per frame
SMALL_SCALE = 0.5  # hard text: half the family's font size
FAINT_MIX = 0.78  # hard text: the colour moved this far towards the panel's colour
BLUR_RADIUS_PX = 1.3
SLANT_DEGREES = (6.0, 11.0)


@cache
def _font(file_name: str, size_px: int) -> ImageFont.FreeTypeFont:
    if not file_name:
        return ImageFont.load_default(size=size_px)
    import matplotlib  # its fonts ship with it: no system fonts needed

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / file_name), size_px)


def _background(style: Style) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), style.background)
    draw = ImageDraw.Draw(image)
    for box, colour in style.panels:
        draw.rectangle(box, fill=colour)
    for box in (style.main_slot, style.side_slot):
        draw.rectangle(box, fill=style.slot_colour)
    for text, x, y in style.signage:
        draw.text((x, y), text, fill=(235, 235, 235), font=_font(style.font_file, 18))
    return image


def _lines(show: Show, style: Style) -> list[str]:
    fact = show.fact
    return [fact.subject, f"{fact.relation} {fact.value}"] if style.is_two_line else [fact.text]


def _fitting_font(style: Style, lines: list[str], size: tuple[int, int], scale: float) -> ImageFont.FreeTypeFont:
    """The family's font at its size, or smaller until every line fits the panel; then scaled."""
    size_px = round(min(style.font_px, size[1] * 0.8 / len(lines)))
    while size_px > 10 and max(_font(style.font_file, size_px).getlength(line) for line in lines) > size[0] - 20:
        size_px -= 1
    return _font(style.font_file, max(8, round(size_px * scale)))


def _text_layer(show: Show, style: Style, size: tuple[int, int]) -> Image.Image:
    """The message on its panel's colour, drawn as hard as its hardness says; `size` is the panel's."""
    scale = SMALL_SCALE if show.hardness is Hardness.SMALL else 1.0
    colour = style.text_colour
    if show.hardness is Hardness.FAINT:
        colour = tuple(round(c + (p - c) * FAINT_MIX) for c, p in zip(colour, style.slot_colour, strict=True))
    layer = Image.new("RGB", size, style.slot_colour)
    draw = ImageDraw.Draw(layer)
    lines = _lines(show, style)
    font = _fitting_font(style, lines, size, scale)
    line_px = font.size + 4
    y = max(2, (size[1] - line_px * len(lines)) // 2)
    for line in lines:
        draw.text((10, y), line, fill=colour, font=font)
        y += line_px
    if show.hardness is Hardness.BLURRED:
        layer = layer.filter(ImageFilter.GaussianBlur(BLUR_RADIUS_PX))
    if show.hardness is Hardness.SLANTED:
        angle = SLANT_DEGREES[0] + (hash(show.fact.value) % 100) / 100 * (SLANT_DEGREES[1] - SLANT_DEGREES[0])
        layer = layer.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=style.slot_colour)
    return layer


def _mover_x(family: Family, time_s: float) -> int | None:
    mover = family.style.mover
    phase_s = time_s % mover.period_s
    if phase_s >= mover.crossing_s:
        return None
    return round(-mover.box[2] + phase_s / mover.crossing_s * (WIDTH + mover.box[2]))


class EpisodeRenderer:
    def __init__(self, episode: Episode) -> None:
        self.episode = episode
        self.family = get_family(episode.family)
        self.background = _background(self.family.style)
        rng = np.random.default_rng(episode.seed)
        sigma = self.family.style.noise_sigma
        # (NOISE_PATTERNS, H, W, 3) int16 sensor noise
        self.noise = np.rint(rng.normal(0.0, sigma, size=(NOISE_PATTERNS, HEIGHT, WIDTH, 3))).astype(np.int16)
        self.rng = rng
        self._last_key: tuple | None = None
        self._last_image: np.ndarray | None = None

    def compose(self, time_s: float) -> np.ndarray:
        """(H, W, 3) int16 frame at `time_s` before noise."""
        on = tuple(show for show in self.episode.shows if show.start_s <= time_s < show.end_s)
        key = (on, _mover_x(self.family, time_s))
        if key != self._last_key:
            self._last_key, self._last_image = key, self._paint(*key)
        return self._last_image

    def _paint(self, shows: tuple[Show, ...], mover_x: int | None) -> np.ndarray:
        image = self.background.copy()
        style = self.family.style
        for show in shows:
            box = style.main_slot if show.slot is Slot.MAIN else style.side_slot
            image.paste(_text_layer(show, style, (box[2] - box[0], box[3] - box[1])), box[:2])
        if mover_x is not None:
            left, top, right, bottom = style.mover.box
            ImageDraw.Draw(image).rectangle((mover_x + left, top, mover_x + right, bottom), fill=style.mover.colour)
        return np.asarray(image, dtype=np.int16)

    def frame(self, time_s: float) -> np.ndarray:
        """(H, W, 3) uint8 frame with one noise pattern added."""
        noisy = self.compose(time_s) + self.noise[self.rng.integers(NOISE_PATTERNS)]
        return np.clip(noisy, 0, 255).astype(np.uint8)


def write_video(episode: Episode, path: Path) -> Path:
    """H.264 in MP4 at the episode's frame rate; the same episode gives the same bytes."""
    renderer = EpisodeRenderer(episode)
    frames = int(episode.duration_s * episode.fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), mode="w") as container:
        stream = container.add_stream("libx264", rate=round(episode.fps))
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast", "threads": "1"}
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(renderer.frame(index / episode.fps), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.replace(path)  # a file that is there is whole
    return path
