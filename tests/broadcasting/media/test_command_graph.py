"""The reader that compares ffmpeg commands: it forgets spelling, never what ffmpeg builds."""

import pytest

from tests.broadcasting.media.command_graph import canonical

GRAPH = (
    "[0:v:0]fps=25:start_time=0,split=2[a][b];[a]scale=640:360:flags=bilinear[small];"
    "[b]boxblur=luma_radius=6:luma_power=2[blur];[blur][small]overlay=x=0:y=0[out]"
)
BASE = [
    "ffmpeg", "-hide_banner", "-y", "-f", "mov", "-protocol_whitelist", "file", "-i", "in.mov",
    "-filter_complex", GRAPH, "-map", "[out]", "-map", "0:a:0", "-c:v", "libx264",
    "-b:v", "800000", "out.ts", "-map", "[out]", "-c:v", "mjpeg", "still.jpg",
]  # fmt: skip


def with_graph(graph: str) -> list[str]:
    return [graph if arg == GRAPH else arg for arg in BASE]


def swapped(args: list[str], first: int, second: int, width: int = 2) -> list[str]:
    """``args`` with the ``width`` items at ``first`` and at ``second`` exchanged."""
    changed = list(args)
    one, other = slice(first, first + width), slice(second, second + width)
    changed[one], changed[other] = args[other], args[one]
    return changed


def test_labels_chains_and_option_order_are_spelling() -> None:
    relabelled = (
        "[0:v:0]fps=25:start_time=0[s0];[s0]split=2[s1][s2];[s1]scale=640:360:flags=bilinear[s3];"
        "[s2]boxblur=luma_power=2:luma_radius=6[s4];[s4][s3]overlay=y=0:x=0[s5]"
    )
    compiled = [arg.replace("[out]", "[s5]") for arg in with_graph(relabelled)]
    assert canonical(compiled) == canonical(BASE)
    assert canonical(swapped(BASE, 3, 5)) == canonical(BASE)  # -f and -protocol_whitelist
    assert canonical(swapped(BASE, 15, 17)) == canonical(BASE)  # -c:v and -b:v


@pytest.mark.parametrize(
    "changed",
    [
        with_graph(GRAPH.replace("[blur][small]", "[small][blur]")),  # overlay's pads
        with_graph(GRAPH.replace("scale=640:360", "scale=360:640")),  # positional order
        with_graph(GRAPH.replace("luma_radius=6", "luma_radius=5")),  # a value
        with_graph(GRAPH.replace("split=2[a][b]", "split=2[b][a]")),  # which copy goes where
        swapped(BASE, 12, 14, width=1),  # the output's stream order
        BASE[:17] + BASE[19:22] + BASE[17:19] + BASE[22:],  # an option moved to another output
        BASE[:20] + BASE[-1:],  # an output with no stream
    ],
)
def test_anything_ffmpeg_builds_differently_is_told_apart(changed: list[str]) -> None:
    assert canonical(changed) != canonical(BASE)


def test_a_simple_graph_is_the_same_chain_in_a_complex_one() -> None:
    simple = ["ffmpeg", "-i", "in", "-map", "0:a:0", "-af", "aresample=48000,volume=2", "-"]
    complex_ = [
        "ffmpeg", "-i", "in", "-filter_complex", "[0:a:0]aresample=48000[s0];[s0]volume=2[s1]",
        "-map", "[s1]", "-",
    ]  # fmt: skip
    assert canonical(simple) == canonical(complex_)
    assert canonical(simple) != canonical([*simple[:-2], "volume=2,aresample=48000", "-"])


def test_a_lavfi_input_of_one_source_filter_is_that_filter() -> None:
    in_graph = ["ffmpeg", "-i", "in", "-filter_complex", "anullsrc=r=48000,atrim=end=1[a]"]
    as_input = [
        "ffmpeg", "-i", "in", "-f", "lavfi", "-i", "anullsrc=r=48000",
        "-filter_complex", "[1:a:0]atrim=end=1[s0]",
    ]  # fmt: skip
    assert canonical([*in_graph, "-map", "[a]", "o"]) == canonical([*as_input, "-map", "[s0]", "o"])
    other = [arg.replace("r=48000", "r=44100") for arg in as_input]
    assert canonical([*in_graph, "-map", "[a]", "o"]) != canonical([*other, "-map", "[s0]", "o"])


def test_a_filter_feeding_no_output_is_refused() -> None:
    with pytest.raises(AssertionError, match="feeds no output"):
        canonical(with_graph(GRAPH + ";[0:a:0]volume=2[unused]"))
