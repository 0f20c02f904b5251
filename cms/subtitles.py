"""Residents' subtitles: a SubRip (``.srt``) or WebVTT (``.vtt``) file checked cue by cue and
rewritten as plain WebVTT, the one format the site's player and the editors' preview read.

Pure: bytes in, text out, or a ``SubtitleError`` whose message a resident can act on. What is
checked: the text encoding (UTF-8, else Windows-1252 as French SRT files often are), every
timing line (minutes and seconds below 60, milliseconds on three digits), each cue ending after
it starts, cues in order of their start, and a bound on the number of cues. What is rewritten:
cue settings and identifiers are dropped, and the text keeps only ``<i>``, ``<b>`` and ``<u>``
(every other tag is removed; ``&``, ``<`` and ``>`` are escaped), so nothing a resident wrote
can be read as markup by a player.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_CUES = 10_000
MAX_CUE_SECONDS = 24 * 3600  # no video lasts a day
KEPT_TAGS = ("i", "b", "u")

_TIME = r"(?:(\d{1,3}):)?(\d{2}):(\d{2})[.,](\d{3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z0-9.]*)[^>]*>")


class SubtitleError(ValueError):
    """The file cannot be used as subtitles; the message says why, for the resident."""


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str


def subtitles_to_webvtt(data: bytes, *, filename: str) -> str:
    """The WebVTT text of an ``.srt`` or ``.vtt`` file's ``data``."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in ("srt", "vtt"):
        raise SubtitleError(_("Subtitles must be an .srt or a .vtt file."))
    text = _decode(data)
    cues = _parse(text, webvtt=extension == "vtt")
    _check(cues)
    return render_webvtt(cues)


def render_webvtt(cues: list[Cue]) -> str:
    blocks = [f"{_timestamp(c.start_ms)} --> {_timestamp(c.end_ms)}\n{c.text}" for c in cues]
    return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise SubtitleError(_("This file is not a text file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as err:
            raise SubtitleError(_("The text of the subtitles could not be read.")) from err
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parse(text: str, *, webvtt: bool) -> list[Cue]:
    blocks = [block.strip("\n") for block in re.split(r"\n[ \t]*\n", text.strip())]
    if webvtt:
        if not blocks or not re.match(r"^WEBVTT(?:[ \t].*)?$", blocks[0].split("\n", 1)[0]):
            raise SubtitleError(_('A .vtt file must start with the line "WEBVTT".'))
        blocks = [b for b in blocks[1:] if not b.startswith(("NOTE", "STYLE", "REGION"))]
    cues = [_cue(block, number) for number, block in enumerate(blocks, start=1) if block]
    if not cues:
        raise SubtitleError(_("The file holds no subtitles."))
    return cues


def _cue(block: str, number: int) -> Cue:
    lines = block.split("\n")
    timing_at = next((i for i, line in enumerate(lines[:2]) if "-->" in line), None)
    if timing_at is None:
        raise SubtitleError(_("Subtitle %(number)s has no timing line.") % {"number": number})
    match = _TIMING.match(lines[timing_at])
    if match is None:
        raise SubtitleError(
            _("The timing of subtitle %(number)s is not valid: %(line)s")
            % {"number": number, "line": lines[timing_at][:80]}
        )
    groups = match.groups()
    start, end = _milliseconds(groups[:4], number), _milliseconds(groups[4:], number)
    text = _clean_text("\n".join(line for line in lines[timing_at + 1 :] if line.strip()))
    return Cue(start_ms=start, end_ms=end, text=text)


def _milliseconds(parts: tuple[str | None, ...], number: int) -> int:
    hours, minutes, seconds, millis = (int(p) if p else 0 for p in parts)
    if minutes >= 60 or seconds >= 60:
        raise SubtitleError(
            _("The timing of subtitle %(number)s is not valid: %(line)s")
            % {"number": number, "line": f"{minutes:02}:{seconds:02}"}
        )
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def _check(cues: list[Cue]) -> None:
    if len(cues) > MAX_CUES:
        raise SubtitleError(_("Too many subtitles (at most %(max)s).") % {"max": MAX_CUES})
    previous_start = 0
    for number, cue in enumerate(cues, start=1):
        if cue.end_ms <= cue.start_ms:
            raise SubtitleError(
                _("Subtitle %(number)s ends before it starts.") % {"number": number}
            )
        if cue.end_ms > MAX_CUE_SECONDS * 1000:
            raise SubtitleError(_("Subtitle %(number)s ends too late.") % {"number": number})
        if cue.start_ms < previous_start:
            raise SubtitleError(
                _("Subtitle %(number)s starts before the previous one: put them in order.")
                % {"number": number}
            )
        previous_start = cue.start_ms


def _clean_text(text: str) -> str:
    """Keep ``<i>``, ``<b>``, ``<u>``; drop other tags; escape what is left of markup."""
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        closing, name = match.group(1), match.group(2).split(".", 1)[0].lower()
        if name not in KEPT_TAGS:
            return ""
        kept.append(f"<{closing}{name}>")
        return f"\x00{len(kept) - 1}\x00"

    held = _TAG.sub(hold, text.replace("-->", "→"))
    escaped = held.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], escaped)


def _timestamp(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02}:{minutes:02}:{seconds:02}.{millis:03}"
