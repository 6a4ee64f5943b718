"""Weights files cannot make a reader allocate more than they declare, nor crash it.

Memory bombs are built here (tiny on disk) and read in a child process whose address space is
capped about 1.5 GB above idle (`memory_limit.run_limited`).
"""
from __future__ import annotations

import io
import pickle
import struct
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from bombs import zeros_deflate, zip_archive
from memory_limit import needs_rlimit, run_cases

from translator.checkpoints import (
    MAX_NESTING,
    MAX_PARAMETERS,
    CheckpointClaim,
    CheckpointFile,
    array_globals,
    read_torch_bytes,
    restricted_unpickle,
)
from translator.errors import CheckpointError


def zip_bomb_pth(path: Path, size: int = 2_600_000_000) -> Path:
    """A `.pth` whose one float tensor of `size` bytes is a deflated record of zeros (~2.6 MB on
    disk): PyTorch's reader would allocate the whole record."""
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(16)}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        records = [(info.filename, archive.read(info)) for info in archive.infolist()]
    deflated = zeros_deflate(size)
    built = []
    for name, data in records:
        if name.endswith("data.pkl"):  # the tensor's and its storage's element count: 16 -> size / 4
            data = data.replace(b"K\x10", b"J" + struct.pack("<i", size // 4))
        if name.endswith("/data/0"):
            built.append((name, deflated, zipfile.ZIP_DEFLATED, 0, size))  # CRC is checked after allocating
        else:
            built.append((name, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data)))
    path.write_bytes(zip_archive(built))
    return path


def test_weights_file_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    from translator import checkpoints

    path = tmp_path / "big.safetensors"
    path.write_bytes(b"x" * 2048)
    monkeypatch.setattr(checkpoints, "MAX_WEIGHTS_BYTES", 1024)
    monkeypatch.setattr(checkpoints._check_file_size, "__defaults__", (1024,))
    with pytest.raises(CheckpointError, match="more than the limit"):
        CheckpointFile(path).load()


def _reconstruct_pickle(shape: tuple[int, ...], typecode: bytes, state: tuple | None = None) -> bytes:
    """A pickle calling numpy's `_reconstruct(ndarray, shape, typecode)` (then BUILD with `state`)."""
    import numpy._core.multiarray as multiarray

    class Bomb:
        def __reduce__(self):
            reduced = (multiarray._reconstruct, (np.ndarray, shape, typecode))
            return reduced + ((state,) if state is not None else ())

    return pickle.dumps(Bomb(), protocol=4)


def test_pickled_arrays_of_objects_or_forged_dtypes_are_refused():
    object_state = (1, (3,), np.dtype("O"), False, [1, 2, 3])
    with pytest.raises(CheckpointError, match="only numbers"):
        restricted_unpickle(_reconstruct_pickle((0,), b"b", object_state), array_globals())
    forged = np.dtype("V8")
    forged.__setstate__((3, "|", None, None, None, 8, 1, 63))  # flags claiming object pointers
    with pytest.raises(CheckpointError, match="refused"):
        restricted_unpickle(_reconstruct_pickle((0,), b"b", (1, (1,), forged, False, bytes(8))),
                            array_globals())
    short = (1, (1000,), np.dtype("f4"), False, bytes(8))
    with pytest.raises(CheckpointError, match="does not match"):
        restricted_unpickle(_reconstruct_pickle((0,), b"b", short), array_globals())


def test_plain_numpy_arrays_and_scalars_still_unpickle():
    data = pickle.dumps({"a": np.arange(6, dtype=">f4").reshape(2, 3), "s": np.float32(2.5),
                         "f": np.asfortranarray(np.eye(2))}, protocol=4)
    value = restricted_unpickle(data, {**array_globals(), ("builtins", "dict"): dict})
    np.testing.assert_array_equal(value["a"], np.arange(6).reshape(2, 3))
    assert value["s"] == np.float32(2.5) and np.array_equal(value["f"], np.eye(2))


def test_rebuild_tensor_with_a_non_storage_or_an_expanding_view_is_refused():
    import torch._utils

    class NotStorage:
        def __reduce__(self):
            return (torch._utils._rebuild_tensor_v2, (5, 0, (2,), (1,), False, None))

    with pytest.raises(CheckpointError, match="not a storage"):
        restricted_unpickle(pickle.dumps(NotStorage(), protocol=4), array_globals())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # TypedStorage is what pickles hold
        storage = torch.TypedStorage(2, dtype=torch.float32)
    with pytest.raises(CheckpointError, match="repeats its data"):
        array_globals()[("torch._utils", "_rebuild_tensor_v2")](storage, 0, (10**9,), (0,))
    with pytest.raises(CheckpointError, match="does not fit"):
        array_globals()[("torch._utils", "_rebuild_tensor_v2")](storage, 1, (2,), (1,))
    rebuilt = array_globals()[("torch._utils", "_rebuild_tensor_v2")](storage, 0, (2,), (1,))
    assert rebuilt.shape == (2,)


def test_stride_zero_tensors_are_refused(tmp_path):
    path = tmp_path / "expanded.pth"
    torch.save({"net.weight": torch.zeros(1).expand(300_000_000)}, path)
    assert path.stat().st_size < 4000
    with pytest.raises(CheckpointError, match=r"expanded.pth: refused, tensor net.weight .* repeats its data"):
        CheckpointFile(path).load()
    torch.save({"a": torch.zeros(1).expand(1000), "b": torch.ones(4)}, path)  # a small repeat is bounded
    assert CheckpointFile(path).tensors()["a"].shape == (1000,)


def test_claims_over_the_parameter_limit_are_refused_when_made():
    huge = {"w": torch.zeros(1).expand(MAX_PARAMETERS + 1)}
    with pytest.raises(CheckpointError, match="more than the limit"):
        CheckpointClaim(translator="x", config={}, state_dict=huge)
    with pytest.raises(CheckpointError, match="limit of 10"):
        CheckpointClaim(translator="x", config={}, state_dict={"w": torch.zeros(11)}, max_parameters=10)
    assert CheckpointClaim(translator="x", config={}, state_dict={"w": torch.zeros(10)}, max_parameters=10)


def test_deeply_nested_pth_is_one_clear_error(tmp_path):
    import sys

    nested: dict = {"w": torch.zeros(1)}
    for _ in range(3000):
        nested = {"k": nested}
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    try:
        torch.save(nested, tmp_path / "deep.pth")
    finally:
        sys.setrecursionlimit(old)
    with pytest.raises(CheckpointError, match=f"deep.pth: refused, nested more than {MAX_NESTING} levels"):
        CheckpointFile(tmp_path / "deep.pth").tensors()


def test_deeply_nested_pth_breaks_no_plugin(tmp_path):
    import sys

    from translator.plugins import load_registry

    nested: list = [torch.zeros(1)]
    for _ in range(3000):
        nested = [nested]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    try:
        torch.save({"state_dict": nested}, tmp_path / "deep.pth")
    finally:
        sys.setrecursionlimit(old)
    registry = load_registry()
    with pytest.raises(CheckpointError, match="nested more than"):
        registry.claim_checkpoint(CheckpointFile(tmp_path / "deep.pth"), None)
    assert not [p.name for p in registry.plugins.values() if p.broken]


@pytest.mark.parametrize("content, expected", [
    (bytes(range(256)) * 2, "not a readable PyTorch checkpoint (damaged, or another format"),
    (b"PK\x03\x04" + bytes(200), "damaged PyTorch archive"),
])
def test_garbage_is_called_unreadable_not_dangerous(tmp_path, content, expected):
    path = tmp_path / "noise.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as caught:
        CheckpointFile(path).load()
    message = str(caught.value)
    assert expected in message and "Python objects" not in message
    assert "weights_only" not in message and "\n" not in message


def test_refusals_do_not_quote_pytorchs_advice_to_disable_safety(tmp_path):
    import os

    class Payload:
        def __reduce__(self):
            return (os.system, ("true",))

    torch.save({"x": Payload()}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError) as caught:
        CheckpointFile(tmp_path / "evil.pth").load()
    message = str(caught.value)
    assert "system" in message and "could run code" in message
    assert "weights_only" not in message and "will likely succeed" not in message and "\n" not in message


def test_read_torch_bytes_checks_like_files():
    buffer = io.BytesIO()
    torch.save(torch.zeros(3), buffer)
    assert torch.equal(read_torch_bytes(buffer.getvalue()), torch.zeros(3))
    with pytest.raises(CheckpointError, match="expected bytes"):
        read_torch_bytes(42)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, str]:
    """Each weights bomb read under the memory cap, in one child process."""
    folder = tmp_path_factory.mktemp("weights-bombs")
    zip_bomb = zip_bomb_pth(folder / "bomb.pth")
    assert zip_bomb.stat().st_size < 3_000_000
    object_array = _reconstruct_pickle((500_000_000,), b"O")
    assert len(object_array) < 160
    (folder / "object.pkl").write_bytes(object_array)
    torch.save({"g_ema": {"w": torch.zeros(1).expand(300_000_000)}}, folder / "expanded.pt")
    return run_cases(f"""
        from pathlib import Path
        from translator.checkpoints import CheckpointFile, array_globals, restricted_unpickle
        folder = Path({str(folder)!r})

        def object_array():
            value = restricted_unpickle(folder / "object.pkl", array_globals())
            print("object array built as", value.shape, value.dtype)

        def expanded():
            CheckpointFile(folder / "expanded.pt").tensors()["g_ema.w"].float().contiguous()

        case("zip", lambda: CheckpointFile(folder / "bomb.pth").load())
        case("object", object_array)
        case("expanded", expanded)
    """)


@needs_rlimit
def test_zip_bomb_pth_is_refused_from_its_declared_sizes(bombs):
    assert bombs["zip"].startswith("CheckpointError: bomb.pth: refused, its records would take 2,600,000,")
    assert "bytes once decompressed (archive/data/0: 2,600,000,000)" in bombs["zip"]


@needs_rlimit
def test_object_dtype_array_pickle_allocates_nothing(bombs):
    assert bombs["object"] == "no error"  # the given shape and typecode are ignored: an empty array


@needs_rlimit
def test_stride_zero_pt_is_refused_before_it_is_copied(bombs):
    assert "repeats its data" in bombs["expanded"]


def test_a_pth_with_a_huge_list_of_records_is_refused_before_parsing_it(tmp_path, monkeypatch):
    from translator import checkpoints

    torch.save({"a": torch.zeros(2), "b": torch.ones(2)}, tmp_path / "many.pth")
    assert CheckpointFile(tmp_path / "many.pth").tensors()["b"].sum() == 2
    monkeypatch.setattr(checkpoints, "MAX_ZIP_DIRECTORY_BYTES", 200)
    with pytest.raises(CheckpointError, match=r"many.pth: refused, its list of records takes \d+ bytes"):
        CheckpointFile(tmp_path / "many.pth").load()


def test_a_pth_whose_pickle_is_larger_than_any_list_of_tensors_is_refused(tmp_path):
    from translator.checkpoints import MAX_PICKLE_RECORD_BYTES

    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        records = [(info.filename, archive.read(info)) for info in archive.infolist()]
    built = [(name, zeros_deflate(MAX_PICKLE_RECORD_BYTES + 1), zipfile.ZIP_DEFLATED, 0, MAX_PICKLE_RECORD_BYTES + 1)
             if name.endswith("data.pkl") else (name, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data))
             for name, data in records]
    (tmp_path / "fat.pth").write_bytes(zip_archive(built))
    with pytest.raises(CheckpointError, match=r"fat.pth: refused, its pickle \(archive/data.pkl\) takes"):
        CheckpointFile(tmp_path / "fat.pth").load()


def test_shared_sub_dicts_cannot_list_exponentially_many_keys(tmp_path):
    shared: dict = {"w": torch.zeros(1)}
    for _ in range(40):  # 2**40 paths to the one tensor, in a 2 KB file
        shared = {"a": shared, "b": shared}
    torch.save(shared, tmp_path / "dag.pth")
    with pytest.raises(CheckpointError, match="dag.pth: the weights hold more than 100,000 entries"):
        CheckpointFile(tmp_path / "dag.pth").tensors()
