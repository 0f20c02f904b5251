"""What the tests' media cache may reuse: only pure generations, keyed by their command."""

from dataclasses import dataclass
from pathlib import Path

from tests.broadcasting.cached_media import is_generation, rebased

TONE = ["-f", "lavfi", "-t", "4", "-i", "sine=frequency=330"]
PICTURE = ["-f", "lavfi", "-t", "4", "-i", "color=c=black:size=1280x720:rate=25"]


def test_a_command_made_of_lavfi_sources_into_one_file_is_a_generation() -> None:
    assert is_generation(["ffmpeg", "-y", *PICTURE, *TONE, "-c:v", "libx264", "/tmp/a.mp4"])


def test_commands_that_read_files_or_write_several_are_not_generations() -> None:
    assert not is_generation(["ffmpeg", "-i", "/tmp/in.mp4", *TONE, "/tmp/out.mp4"])
    assert not is_generation(["ffmpeg", *PICTURE, "-f", "hls", "/tmp/index.m3u8"])
    assert not is_generation(["ffmpeg", *PICTURE, "/tmp/frame-%03d.png"])
    assert not is_generation(["ffmpeg", *PICTURE, "-f", "mpegts", "pipe:1"])
    assert not is_generation(["ffprobe", *PICTURE, "/tmp/a.mp4"])


@dataclass(frozen=True)
class Inner:
    path: Path
    other: Path


@dataclass(frozen=True)
class Outer:
    out_dir: Path
    inner: dict[str, Inner]
    sizes: tuple[int, ...]


def test_paths_under_a_folder_are_moved_through_dataclasses_and_containers() -> None:
    value = Outer(
        Path("/a/out"), {"x": Inner(Path("/a/out/x/index.m3u8"), Path("/elsewhere"))}, (1, 2)
    )
    moved = rebased(value, Path("/a"), Path("/b"))
    assert moved == Outer(
        Path("/b/out"), {"x": Inner(Path("/b/out/x/index.m3u8"), Path("/elsewhere"))}, (1, 2)
    )
