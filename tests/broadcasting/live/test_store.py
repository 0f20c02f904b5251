"""The live store: names of the live output, its index (one key type, the on-disk JSON kept as
deployments wrote it) and atomic writes."""

import json
import stat
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, InMemoryStorage, Storage
from hypothesis import given
from hypothesis import strategies as st

from broadcasting.live.store import (
    INDEX_NAME,
    IndexEntry,
    dump_index,
    live_prefix,
    master_name,
    master_url,
    parse_index,
    playlist_name,
    read_file,
    read_index,
    rung_prefix,
    segment_name,
    write_file,
    write_index,
)
from broadcasting.media.storage import public_storage

# An index.json as the playout has always written it: keys in numeric order ("9" before "10").
LEGACY = (
    b'{"9": {"name": "9-0123456789ab.ts", "source": "assets/3/360p/seg_00004.ts"}, '
    b'"10": {"name": "10-ba9876543210.ts", "source": "assets/4/360p/seg_00000.ts"}}'
)

entries = st.builds(
    IndexEntry, name=st.text(max_size=30), source=st.text(max_size=60), listed=st.booleans()
)
indexes = st.dictionaries(st.integers(min_value=-(10**12), max_value=10**12), entries, max_size=12)


def test_the_layout_of_a_channel() -> None:
    assert live_prefix("chartres") == "live/chartres"
    assert rung_prefix("chartres", "360p") == "live/chartres/360p"
    assert master_name("chartres") == "live/chartres/master.m3u8"
    assert playlist_name("chartres", "360p") == "live/chartres/360p/index.m3u8"


def test_the_master_url_is_the_public_storage_url(settings: LazySettings) -> None:
    assert master_url("chartres") == public_storage().url("live/chartres/master.m3u8")
    assert master_url("chartres") == f"{settings.PUBLIC_MEDIA_URL}live/chartres/master.m3u8"


def test_segment_names_are_content_addressed() -> None:
    name = segment_name(sequence=1_000_000, data=b"abc")
    assert name == segment_name(sequence=1_000_000, data=b"abc")
    assert name != segment_name(sequence=1_000_000, data=b"abd")
    prefix, digest = name.removesuffix(".ts").split("-")
    assert prefix == "1000000" and len(digest) == 12 and int(digest, 16) >= 0


def test_a_legacy_index_loads_with_integer_keys_and_is_written_back_identically() -> None:
    index = parse_index(LEGACY)
    assert index == {
        9: IndexEntry(name="9-0123456789ab.ts", source="assets/3/360p/seg_00004.ts"),
        10: IndexEntry(name="10-ba9876543210.ts", source="assets/4/360p/seg_00000.ts"),
    }
    assert all(type(key) is int for key in index)
    assert dump_index(index) == LEGACY


@given(indexes)
def test_the_index_round_trips(index: dict[int, IndexEntry]) -> None:
    assert parse_index(dump_index(index)) == index
    on_disk = json.loads(dump_index(index))
    assert list(on_disk) == [str(n) for n in sorted(index)]
    for n, value in on_disk.items():  # "listed" only on a segment made ahead, not yet listed
        listed = index[int(n)].listed
        assert set(value) == ({"name", "source"} if listed else {"name", "source", "listed"})


def test_an_entry_made_ahead_says_it_is_not_listed_yet() -> None:
    """Issue 12: the segment a round is about to list may still be made again; older indexes
    (without the key) name only listed segments, as older playouts never remade them."""
    ahead = IndexEntry(name="11-aa.ts", source="s11", listed=False)
    raw = dump_index({11: ahead})
    assert raw == b'{"11": {"listed": false, "name": "11-aa.ts", "source": "s11"}}'
    assert parse_index(raw) == {11: ahead}
    assert all(entry.listed for entry in parse_index(LEGACY).values())


def test_an_index_round_trips_through_storage(tmp_path: Path) -> None:
    storage = FileSystemStorage(location=tmp_path)
    prefix = rung_prefix("chartres", "360p")
    assert read_index(storage, prefix) == {}  # nothing published yet
    index = {7: IndexEntry(name="7-aa.ts", source="s7"), 8: IndexEntry(name="8-bb.ts", source="s8")}
    write_index(storage, prefix, index)
    assert (tmp_path / prefix / INDEX_NAME).read_bytes() == dump_index(index)
    assert read_index(storage, prefix) == index
    write_index(storage, prefix, {8: index[8]})
    assert read_index(storage, prefix) == {8: index[8]}


def test_an_atomic_write_replaces_the_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    storage = FileSystemStorage(location=tmp_path)
    write_file(storage, "live/x/master.m3u8", b"#EXTM3U\n1")
    write_file(storage, "live/x/master.m3u8", b"#EXTM3U\n2")
    folder = tmp_path / "live" / "x"
    assert [p.name for p in folder.iterdir()] == ["master.m3u8"]
    assert read_file(storage, "live/x/master.m3u8") == b"#EXTM3U\n2"
    assert stat.S_IMODE((folder / "master.m3u8").stat().st_mode) == 0o644


def test_a_failed_write_removes_its_temporary_file(tmp_path: Path) -> None:
    storage = FileSystemStorage(location=tmp_path)
    (tmp_path / "live" / "x" / "index.json").mkdir(parents=True)  # a directory in the way
    with pytest.raises(OSError):
        write_file(storage, "live/x/index.json", b"{}")
    assert [p.name for p in (tmp_path / "live" / "x").iterdir()] == ["index.json"]


class NoLocalPaths(Storage):
    """A storage such as S3: no local path (``path`` is ``Storage``'s: not implemented)."""

    def __init__(self) -> None:
        self.objects = InMemoryStorage()

    def _save(self, name: str, content: File) -> str:
        return str(self.objects.save(name, content))

    def _open(self, name: str, mode: str = "rb") -> File:
        return self.objects.open(name, mode)

    def exists(self, name: str) -> bool:
        return bool(self.objects.exists(name))


def test_a_storage_without_local_paths_is_written_through_save() -> None:
    storage = NoLocalPaths()
    write_file(storage, "live/x/360p/index.m3u8", b"#EXTM3U\n")
    assert read_file(storage, "live/x/360p/index.m3u8") == b"#EXTM3U\n"


def test_a_missing_file_reads_as_none(tmp_path: Path) -> None:
    assert read_file(FileSystemStorage(location=tmp_path), "live/nope/master.m3u8") is None
