"""StyleGAN's readers of latents and foreign weights: bounded memory, one clear error each."""
from __future__ import annotations

import argparse
import pickle

import numpy as np
import pytest
import test_stylegan_import
import torch
from bombs import npy_header, npz_bomb, stored, zip_archive
from memory_limit import needs_rlimit, run_cases
from test_stylegan_import import PersistentStub, module_state, rosinality_state
from translator_plugins.stylegan import checkpoints
from translator_plugins.stylegan.latents import MAX_LATENTS_FILE_BYTES, load_latents

from translator.checkpoints import CheckpointFile, ImportContext
from translator.errors import CheckpointError, DataError

NUM_WS, W_DIM = 14, 512


@pytest.fixture
def nvidia_modules(monkeypatch):
    """test_stylegan_import's stand-ins for NVIDIA's modules: (reconstruct function, EasyDict class)."""
    return test_stylegan_import.nvidia_modules.__wrapped__(monkeypatch)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("latents-bombs")
    (folder / "deflated.npz").write_bytes(npz_bomb((1, 600_000_000)))  # 2.4 GB of w, ~2.4 MB on disk
    (folder / "repeated.npz").write_bytes(npz_bomb((1, 3_000_000)))  # 12 MB, once per w layer: 168 MB
    assert all(f.stat().st_size < 3_000_000 for f in folder.iterdir())
    return run_cases(f"""
        from pathlib import Path
        from translator_plugins.stylegan.latents import load_latents
        folder = Path({str(folder)!r})
        case("deflated", lambda: load_latents(folder / "deflated.npz", {NUM_WS}, {W_DIM}))
        case("repeated", lambda: load_latents(folder / "repeated.npz", {NUM_WS}, {W_DIM}))
    """)


@needs_rlimit
def test_deflated_latents_are_refused_from_the_declared_sizes(bombs):
    assert bombs["deflated"].startswith("DataError: deflated.npz: refused, its arrays would take 2,400,000,")
    assert bombs["peak MB"]["deflated"] < 64


@needs_rlimit
def test_latents_of_the_wrong_shape_are_refused_before_reading_or_repeating(bombs):
    assert bombs["repeated"] == (f"DataError: repeated.npz: latents of shape (1, 3000000) do not fit this model "
                                 f"({NUM_WS} ws of {W_DIM})")
    assert bombs["peak MB"]["repeated"] < 64


def test_latents_round_trip_in_every_accepted_shape(tmp_path):
    w = np.random.default_rng(0).standard_normal((NUM_WS, W_DIM)).astype(np.float32)
    for shape in [(1, NUM_WS, W_DIM), (NUM_WS, W_DIM)]:
        np.savez(tmp_path / "a.npz", w=w.reshape(shape))
        np.testing.assert_array_equal(load_latents(tmp_path / "a.npz", NUM_WS, W_DIM), w)
    np.savez_compressed(tmp_path / "one.npz", w=w[:1].astype(np.float64), z=np.zeros(3))
    assert np.array_equal(load_latents(tmp_path / "one.npz", NUM_WS, W_DIM), np.repeat(w[:1], NUM_WS, 0))
    np.savez(tmp_path / "fortran.npz", w=np.asfortranarray(w))
    np.testing.assert_array_equal(load_latents(tmp_path / "fortran.npz", NUM_WS, W_DIM), w)


@pytest.mark.parametrize("content, message", [
    (lambda: npz_bomb((W_DIM,), name="z"), "no array 'w' (found z)"),
    (lambda: zip_archive([stored("w.npy", npy_header((W_DIM,), "<i4") + bytes(4 * W_DIM))]),
     "holds int32, not floating-point numbers"),
    (lambda: zip_archive([stored("w.npy", npy_header((W_DIM,)) + bytes(10))]), "'w' is truncated"),
    (lambda: b"not a zip", "not a readable latents .npz"),
    (lambda: npy_header((W_DIM,)) + bytes(4 * W_DIM), "not a readable latents .npz"),
    (lambda: zip_archive([("w.npy", b"x", 0, 0, MAX_LATENTS_FILE_BYTES + 1)]), "refused, its arrays would take"),
])
def test_bad_latents_files_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content())
    with pytest.raises(DataError, match="^bad.npz: ") as caught:
        load_latents(path, NUM_WS, W_DIM)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_nan_latents_are_refused(tmp_path):
    np.savez(tmp_path / "nan.npz", w=np.full((1, W_DIM), np.nan, np.float32))
    with pytest.raises(DataError, match="NaN"):
        load_latents(tmp_path / "nan.npz", NUM_WS, W_DIM)


@pytest.mark.parametrize("lr_mlp", ["abc", float("inf"), float("nan"), -1.0, 0, True, [0.01]])
def test_bad_rosinality_args_are_a_clear_error(tmp_path, lr_mlp):
    sd = rosinality_state(size=8, channels={4: 8, 8: 8})
    path = tmp_path / "args.pt"
    torch.save({"g_ema": sd, "args": argparse.Namespace(lr_mlp=lr_mlp)}, path)
    with pytest.raises(CheckpointError, match=r"args.pt: args.lr_mlp .* is not a learning-rate multiplier"):
        checkpoints.claim(CheckpointFile(path), ImportContext())


@pytest.mark.parametrize("args", [5, argparse.Namespace(size=8)])
def test_args_without_lr_mlp_use_the_default(tmp_path, args):
    sd = rosinality_state(size=8, channels={4: 8, 8: 8})
    torch.save({"g_ema": sd, "args": args}, tmp_path / "ok.pt")
    claim = checkpoints.claim(CheckpointFile(tmp_path / "ok.pt"), ImportContext())
    assert claim.config["mapping_lr_mul"] == 0.01


def test_latent_avg_of_the_wrong_size_is_a_clear_error(tmp_path):
    sd = rosinality_state(size=8, channels={4: 8, 8: 8})
    torch.save({"g_ema": sd, "latent_avg": torch.zeros(7)}, tmp_path / "avg.pt")
    with pytest.raises(CheckpointError, match=r"latent_avg of shape \(7,\) does not fit w of 16"):
        checkpoints.claim(CheckpointFile(tmp_path / "avg.pt"), ImportContext())


class _RebuildWithInt:
    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, (7, 0, (2,), (1,), False, None))


class _ObjectArray:
    def __reduce__(self):
        import numpy._core.multiarray as multiarray

        return (multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, (3,), np.dtype("O"), False, [1, 2, 3]))


@pytest.mark.parametrize("payload, message", [(_RebuildWithInt(), "not a storage"), (_ObjectArray(), "only numbers")])
def test_hostile_nvidia_pickles_are_one_clear_error(tmp_path, nvidia_modules, payload, message):
    reconstruct, _ = nvidia_modules
    state = module_state({"weight": payload}, {}, {}, {"z_dim": 16, "img_resolution": 8})
    path = tmp_path / "network.pkl"
    path.write_bytes(pickle.dumps({"G_ema": PersistentStub(reconstruct, "Generator", state, "")}, protocol=4))
    with pytest.raises(CheckpointError, match=f"^network.pkl: .*{message}") as caught:
        checkpoints.claim(CheckpointFile(path), ImportContext())
    assert "\n" not in str(caught.value)


def test_a_latents_file_larger_than_latents_take_is_not_opened(tmp_path):
    path = tmp_path / "big.npz"
    with path.open("wb") as handle:  # sparse: no disk space used
        handle.truncate(MAX_LATENTS_FILE_BYTES + 1)
    with pytest.raises(DataError, match="big.npz: refused, .* bytes is more than latents take"):
        load_latents(path, NUM_WS, W_DIM)
