"""Training data: scanning folders, clear errors, skipped files, pairing, order, augmentation."""
from __future__ import annotations

import pytest
import torch

from translator.errors import DataError
from translator.training.data import (
    Augment,
    EpochSampler,
    ImageDataset,
    collate,
    first_readable,
    make_sources,
)
from translator.training.spec import DataKind


def test_missing_empty_and_unreadable_folders_raise_clear_errors(tmp_path, image_writer):
    good = tmp_path / "good"
    image_writer(good, 2)
    with pytest.raises(DataError, match=r"--data-b .*nowhere: no such folder"):
        make_sources(DataKind.UNPAIRED, data_a=str(good), data_b=str(tmp_path / "nowhere"))
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match=r"--data-a .*empty: no image files found"):
        make_sources(DataKind.UNPAIRED, data_a=str(tmp_path / "empty"), data_b=str(good))
    with pytest.raises(DataError, match="needs both --data-a"):
        make_sources(DataKind.UNPAIRED, data_a=str(good))
    with pytest.raises(DataError, match="needs --data"):
        make_sources(DataKind.SINGLE)
    broken = tmp_path / "broken"
    broken.mkdir()
    for i in range(3):
        (broken / f"x{i}.png").write_bytes(b"not a png at all")
    sources = make_sources(DataKind.UNPAIRED, data_a=str(good), data_b=str(broken))
    with pytest.raises(DataError, match=r"broken: none of its 3 image files could be read"):
        first_readable(sources, 4, max_side=None)


def test_unreadable_files_are_skipped_and_reported(tmp_path, image_writer):
    image_writer(tmp_path / "a", 2)
    (tmp_path / "a" / "img_000.png").write_bytes(b"\x89PNG truncated")
    image_writer(tmp_path / "b", 2, seed=3)
    sources = make_sources(DataKind.UNPAIRED, data_a=str(tmp_path / "a"), data_b=str(tmp_path / "b"))
    assert sources.counts() == {"A": 2, "B": 2}
    item = ImageDataset(sources, max_side=None)[{"A": 0, "B": 1}]
    assert item["_skipped"] == [str(tmp_path / "a" / "img_000.png")]
    assert item["A"].dtype == torch.uint8 and item["A"].shape == (3, 40, 48)
    fixed = first_readable(sources, 4, max_side=None)
    assert len(fixed["A"]) == len(fixed["B"]) == 1  # one readable image in A, rows of equal length


def test_paired_folders_match_names_and_side_by_side_images_are_split(tmp_path, image_writer):
    image_writer(tmp_path / "ab" / "A", 3, seed=1)
    image_writer(tmp_path / "ab" / "B", 2, seed=2)  # img_002 has no partner
    sources = make_sources(DataKind.PAIRED, data=str(tmp_path / "ab"))
    assert sources.paired and sources.counts() == {"A": 2, "B": 2}
    assert [i.path.name for i in sources.items["A"]] == [i.path.name for i in sources.items["B"]]

    image_writer(tmp_path / "sbs", 2, size=(20, 64))
    sources = make_sources(DataKind.PAIRED, data=str(tmp_path / "sbs"), direction="BtoA")
    item = ImageDataset(sources, max_side=None)[{"A": 0, "B": 0}]
    assert item["A"].shape == item["B"].shape == (3, 20, 32)
    whole = ImageDataset(make_sources(DataKind.SINGLE, data=str(tmp_path / "sbs")), max_side=None)[{"image": 0}]
    assert torch.equal(item["A"], whole["image"][:, :, 32:])  # BtoA: A is the right half


def test_sampler_order_is_reproducible_resumable_and_sharded():
    def take(sampler, n):
        it = iter(sampler)
        return [next(it) for _ in range(n)]

    counts = {"A": 5, "B": 3}
    full = take(EpochSampler(counts, seed=7, paired=False), 12)
    assert full == take(EpochSampler(counts, seed=7, paired=False), 12)
    assert full != take(EpochSampler(counts, seed=8, paired=False), 12)
    assert sorted(s["A"] for s in full[:5]) == [0, 1, 2, 3, 4]  # each epoch is a permutation
    resumed = EpochSampler(counts, seed=7, paired=False)
    resumed.start(1, 2)
    assert take(resumed, 5) == full[7:12]
    ranks = [take(EpochSampler({"A": 6}, seed=1, paired=False, rank=r, world=2), 3) for r in (0, 1)]
    assert sorted(s["A"] for r in ranks for s in r) == list(range(6))
    paired = take(EpochSampler({"A": 4, "B": 4}, seed=1, paired=True), 4)
    assert all(s["A"] == s["B"] for s in paired)


def test_augment_resizes_crops_and_flips_paired_images_alike():
    torch.manual_seed(0)
    image = (torch.rand(3, 40, 60) * 255).to(torch.uint8)
    batch = collate([{"A": image, "B": image.clone(), "_skipped": []},
                     {"A": image, "B": image.clone(), "_skipped": ["x.png"]}])
    assert batch["_skipped"] == ["x.png"]
    augment = Augment(16, 20, seed=3)
    out = augment({k: v for k, v in batch.items() if k != "_skipped"}, torch.device("cpu"), paired=True)
    assert out["A"].shape == (2, 3, 16, 16) and out["A"].dtype == torch.float32
    assert 0.0 <= float(out["A"].min()) and float(out["A"].max()) <= 1.0
    assert torch.equal(out["A"], out["B"])  # paired: same crop and flip
    unpaired = augment({"A": batch["A"], "B": batch["B"]}, torch.device("cpu"), paired=False)
    assert unpaired["A"].shape == (2, 3, 16, 16)
    assert not torch.equal(unpaired["A"], unpaired["B"])  # independent crops
    state = augment.state_dict()
    again = Augment(16, 20, seed=99)
    again.load_state_dict(state)
    assert torch.equal(augment({"A": [image]}, torch.device("cpu"), paired=False)["A"],
                       again({"A": [image]}, torch.device("cpu"), paired=False)["A"])
    with pytest.raises(ValueError, match="smaller than the crop"):
        Augment(32, 16)
