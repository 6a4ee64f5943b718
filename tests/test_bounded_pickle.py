"""The allow-list unpickler's work is bounded by the file: memo references cannot multiply a
small file into large objects, and the number of opcodes it runs is capped."""
from __future__ import annotations

import pickle
import struct

import pytest
from memory_limit import needs_rlimit, run_cases

from translator import checkpoints
from translator.checkpoints import PICKLE_REUSE_FLOOR, restricted_unpickle
from translator.errors import CheckpointError

CHUNK = 64 * 1024


def memo_pickle(count: int, *, copy: bool, chunk: int = CHUNK) -> bytes:
    """A protocol-2 pickle of a list holding one memoised `chunk`-byte string `count` times,
    fetched by reference (BINGET), or passed to `builtins.bytearray` each time (`copy`), which
    copies it: about 6 bytes on disk per `chunk` bytes built."""
    out = [b"\x80\x02", pickle.GLOBAL + b"builtins\nbytearray\n", pickle.BINPUT + b"\x00",
           pickle.BINBYTES + struct.pack("<I", chunk) + b"x" * chunk, pickle.BINPUT + b"\x01",
           pickle.EMPTY_LIST, pickle.MARK]
    item = (pickle.BINGET + b"\x00" + pickle.BINGET + b"\x01" + pickle.TUPLE1 + pickle.REDUCE) if copy \
        else pickle.BINGET + b"\x01"
    out += [item * count, pickle.APPENDS, pickle.STOP]
    return b"".join(out)


ALLOWED = {("builtins", "bytearray"): bytearray}


def test_memo_references_within_the_files_size_still_unpickle():
    count = PICKLE_REUSE_FLOOR // CHUNK - 1  # each copy also fetches the memoised bytearray
    loaded = restricted_unpickle(memo_pickle(count, copy=True), ALLOWED)
    assert len(loaded) == count and loaded[-1] == b"x" * CHUNK
    shared = restricted_unpickle(pickle.dumps([{"a": 1}] * 3 + ["s" * 10] * 1000), {})
    assert shared[0] is shared[2] and len(shared) == 1003


def test_a_string_referenced_past_the_budget_is_refused(tmp_path):
    data = memo_pickle(PICKLE_REUSE_FLOOR // CHUNK + 1, copy=False)
    assert len(data) < 100_000
    (tmp_path / "refs.pkl").write_bytes(data)
    with pytest.raises(CheckpointError, match=r"^refs.pkl: refused: the pickle re-uses its stored objects for more "
                                              r"than 67,108,864 bytes") as caught:
        restricted_unpickle(tmp_path / "refs.pkl", ALLOWED)
    assert "\n" not in str(caught.value)


def test_the_budget_grows_with_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "PICKLE_REUSE_FLOOR", 1024)
    data = memo_pickle(10, copy=True, chunk=256)  # 2,560 bytes re-used from a file of about 330
    with pytest.raises(CheckpointError, match="more than 1,024 bytes"):
        restricted_unpickle(data, ALLOWED)
    padded = data[:-1] + pickle.BINBYTES + struct.pack("<I", 3000) + bytes(3000) + pickle.POP \
        + pickle.STOP  # the same objects in a file larger than what they re-use
    assert len(restricted_unpickle(padded, ALLOWED)) == 10


def test_pickles_running_too_many_operations_are_refused(monkeypatch):
    monkeypatch.setattr(checkpoints, "MAX_PICKLE_OPERATIONS", 1000)
    assert len(restricted_unpickle(pickle.dumps([None] * 900, protocol=2), {})) == 900
    with pytest.raises(CheckpointError, match=r"^refused: the pickle runs more than 1,000 operations"):
        restricted_unpickle(pickle.dumps([None] * 1000, protocol=2), {})


@needs_rlimit
def test_memo_copies_are_refused_before_they_exhaust_memory(tmp_path):
    data = memo_pickle(100_000, copy=True)  # 6.5 GB of copies from a 665 KB file
    assert len(data) < 700_000
    (tmp_path / "copies.pkl").write_bytes(data)
    results = run_cases(f"""
        from pathlib import Path
        from translator.checkpoints import restricted_unpickle
        case("copies", lambda: restricted_unpickle(Path({str(tmp_path / "copies.pkl")!r}),
                                                   {{("builtins", "bytearray"): bytearray}}))
    """)
    assert results["copies"].startswith("CheckpointError: copies.pkl: refused: the pickle re-uses its stored")
    assert results["peak MB"]["copies"] < 200
