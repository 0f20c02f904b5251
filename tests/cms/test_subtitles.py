"""Subtitles: SubRip and WebVTT checked cue by cue and rewritten as plain WebVTT."""

from collections.abc import Iterator

import pytest
from django.utils import translation

from cms.subtitles import SubtitleError, subtitles_to_webvtt


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    """The messages are checked in English (the site's default language is French)."""
    with translation.override("en"):
        yield


SRT = """1
00:00:01,000 --> 00:00:03,500
Bonjour à tous !

2
00:00:04,000 --> 00:00:06,250
<i>La cathédrale</i> <font color="#ff0000">de Chartres</font>
deuxième ligne
"""


def test_srt_becomes_webvtt_with_dots_and_only_simple_tags() -> None:
    vtt = subtitles_to_webvtt(SRT.encode(), filename="film.srt")
    assert vtt == (
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:03.500\nBonjour à tous !\n\n"
        "00:00:04.000 --> 00:00:06.250\n<i>La cathédrale</i> de Chartres\ndeuxième ligne\n"
    )


def test_windows_1252_and_crlf_srt_is_read() -> None:
    data = SRT.replace("\n", "\r\n").encode("cp1252")
    assert "Bonjour à tous !" in subtitles_to_webvtt(data, filename="FILM.SRT")


def test_utf8_bom_is_accepted() -> None:
    assert subtitles_to_webvtt(b"\xef\xbb\xbf" + SRT.encode(), filename="a.srt").startswith(
        "WEBVTT"
    )


def test_vtt_keeps_cues_without_hours_and_drops_notes_settings_and_identifiers() -> None:
    data = (
        "WEBVTT - Chartres\n\nNOTE a comment\n\nSTYLE\n::cue { color: red }\n\n"
        "intro\n00:01.000 --> 00:02.000 align:start position:10%\nSalut\n\n"
        "01:00:00.000 --> 01:00:01.000\nFin\n"
    )
    assert subtitles_to_webvtt(data.encode(), filename="a.vtt") == (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nSalut\n\n01:00:00.000 --> 01:00:01.000\nFin\n"
    )


def test_markup_is_escaped_and_arrows_cannot_break_a_cue() -> None:
    data = b"1\n00:00:01,000 --> 00:00:02,000\n<script>alert(1)</script> a & b --> c <b>ok</b>\n"
    vtt = subtitles_to_webvtt(data, filename="x.srt")
    assert "alert(1) a &amp; b → c <b>ok</b>" in vtt
    assert "<script>" not in vtt and vtt.count("-->") == 1


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (SRT.encode(), "film.txt", ".srt or a .vtt"),
        (b"1\n00:00:03,000 --> 00:00:01,000\nA\n", "a.srt", "ends before it starts"),
        (b"1\n00:00:03,000 --> 00:00:03,000\nA\n", "a.srt", "ends before it starts"),
        (b"1\n00:00:01,000 --> 00:00:02\nA\n", "a.srt", "timing of subtitle 1"),
        (b"1\n00:61:01,000 --> 00:62:02,000\nA\n", "a.srt", "timing of subtitle 1"),
        (b"1\nhello\n", "a.srt", "no timing line"),
        (b"", "a.srt", "no subtitles"),
        (b"00:00:01.000 --> 00:00:02.000\nA\n", "a.vtt", "WEBVTT"),
        (b"\x00\x01\x02binary", "a.srt", "not a text file"),
        (
            b"1\n00:00:05,000 --> 00:00:06,000\nB\n\n2\n00:00:01,000 --> 00:00:02,000\nA\n",
            "a.srt",
            "starts before the previous one",
        ),
        (b"1\n30:00:00,000 --> 30:00:01,000\nA\n", "a.srt", "ends too late"),
    ],
)
def test_bad_subtitles_are_refused_with_a_reason(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(SubtitleError, match=message):
        subtitles_to_webvtt(data, filename=filename)
