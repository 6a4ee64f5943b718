"""The engine with tiny test plugins: paired and single-folder data, the context it hands over."""
from __future__ import annotations

import pytest
import torch

from translator import api
from translator.plugins import Registry
from translator.training.cli import main

SEEN: list[dict] = []


class TinyTrainer:
    """One 1x1 conv learning B from A (paired) or the image itself (single); records what it sees."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.net = ctx.wrap(torch.nn.Conv2d(3, 3, 1))
        self.opt = ctx.make_optimizer(self.net.parameters(), "G")
        self.pool = ctx.image_pool(ctx.options["pool"])

    def networks(self):
        return {"net": self.net}

    def optimizers(self):
        return {"G": self.opt}

    def train_step(self, batch, step):
        SEEN.append({"batch": {k: v.clone() for k, v in batch.items()}, "step": step,
                     "lr": self.opt.param_groups[0]["lr"], "options": dict(self.ctx.options)})
        source = batch.get("A", batch.get("image"))
        target = batch.get("B", source)
        with self.ctx.autocast():
            loss = torch.nn.functional.l1_loss(self.net(source), target)
        self.ctx.backward(loss)
        self.ctx.step(self.opt)
        return {"l1": loss}

    def samples(self, batch):
        source = batch.get("A", batch.get("image"))
        return [source, self.net(source).clamp(0, 1)]

    def export(self):
        return self.ctx.unwrap(self.net), {"kind": "tiny"}

    def state_dict(self):
        return {"pool": self.pool.state_dict()}

    def load_state_dict(self, state):
        self.pool.load_state_dict(state["pool"])


def _spec(name: str, data: api.DataKind) -> api.TranslatorSpec:
    return api.TranslatorSpec(
        name=name, title=name, description="test", task=api.TaskKind.IMAGE_TO_IMAGE,
        build=lambda config: torch.nn.Conv2d(3, 3, 1), translate=lambda m, x, p, c: m(x),
        training=api.TrainingSpec(data=data, make_trainer=TinyTrainer, gan_loss="hinge", lr=0.01, size=16,
                                  steps=4, decay_fraction=0.5,
                                  options=(api.Int(name="pool", default=3, minimum=0, maximum=9),)))


class TinyPlugin:
    @api.hookimpl
    def translator_translators(self):
        return [_spec("tiny-paired", api.DataKind.PAIRED), _spec("tiny-single", api.DataKind.SINGLE)]


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.register(TinyPlugin(), "tiny")
    SEEN.clear()
    return registry


COMMON = ["--workers", "0", "--quiet", "--device", "cpu", "--sample-every", "0", "--load-size", "20"]


def test_paired_side_by_side_data_gets_one_crop_and_flip_per_pair(tmp_path, registry, image_writer):
    import cv2

    folder = tmp_path / "pairs"
    for path in image_writer(folder, 3, size=(24, 24), seed=4):  # make AB images with B = 255 - A
        left = cv2.imread(str(path))
        cv2.imwrite(str(path), cv2.hconcat([left, 255 - left]))
    assert main(["--plugin", "tiny-paired", "--data", str(folder), "--out", str(tmp_path / "runs"),
                 "--name", "p", "--batch-size", "2", *COMMON], registry=registry) == 0
    assert [s["step"] for s in SEEN] == [0, 1, 2, 3]  # the spec's default steps
    for seen in SEEN:
        a, b = seen["batch"]["A"], seen["batch"]["B"]
        assert a.shape == b.shape == (2, 3, 16, 16)
        assert torch.allclose(b, 1 - a, atol=2 / 255)
    assert [round(s["lr"], 6) for s in SEEN] == [0.01, 0.01, round(0.01 * 2 / 3, 6), round(0.01 / 3, 6)]
    options = SEEN[0]["options"]
    assert options["gan_loss"] == "hinge" and options["pool"] == 3 and options["lr"] == 0.01


def test_paired_folders_with_direction_and_plugin_option(tmp_path, registry, image_writer):
    image_writer(tmp_path / "d" / "A", 2, tint=(1, 0, 0), seed=1)
    image_writer(tmp_path / "d" / "B", 2, tint=(0, 0, 1), seed=1)
    assert main(["--plugin", "tiny-paired", "--data", str(tmp_path / "d"), "--direction", "BtoA", "--steps", "1",
                 "--pool", "0", "--out", str(tmp_path / "runs"), "--name", "d", *COMMON], registry=registry) == 0
    batch = SEEN[0]["batch"]
    assert float(batch["A"][:, 0].max()) == 0.0 and float(batch["B"][:, 2].max()) == 0.0  # A is blue now
    assert SEEN[0]["options"]["pool"] == 0


def test_single_folder_data_and_epochs(tmp_path, registry, image_writer, translator_home):
    image_writer(tmp_path / "imgs", 5, seed=2)
    assert main(["--plugin", "tiny-single", "--data", str(tmp_path / "imgs"), "--epochs", "2", "--batch-size",
                 "2", "--out", str(tmp_path / "runs"), "--name", "s", *COMMON], registry=registry) == 0
    assert len(SEEN) == 2 * (5 // 2)  # whole batches per epoch
    assert set(SEEN[0]["batch"]) == {"image"}
    card = (translator_home / "models" / "tiny-single" / "s.json").read_text()
    assert '"kind": "tiny"' in card and '"trained"' in card


def test_a_plugin_without_training_is_refused(capsys, registry):
    class Untrainable:
        @api.hookimpl
        def translator_translators(self):
            return [api.TranslatorSpec(name="plain", title="p", description="", task=api.TaskKind.IMAGE_TO_IMAGE,
                                       build=lambda c: torch.nn.Identity(), translate=lambda m, x, p, c: x)]

    registry.register(Untrainable(), "plain")
    assert main(["--plugin", "plain", "--data", "x"], registry=registry) == 2
    assert "plain cannot be trained; trainable: tiny-paired, tiny-single" in capsys.readouterr().err


def test_decoding_workers_give_the_same_batches_as_the_main_process(tmp_path, registry, image_writer):
    image_writer(tmp_path / "imgs", 3, seed=5)
    batches = []
    for workers in ("0", "1"):
        SEEN.clear()
        args = [*COMMON, "--plugin", "tiny-single", "--data", str(tmp_path / "imgs"), "--steps", "4",
                "--batch-size", "2", "--out", str(tmp_path / "runs"), "--name", f"w{workers}"]
        args[args.index("--workers") + 1] = workers
        assert main(args, registry=registry) == 0
        batches.append([s["batch"]["image"] for s in SEEN])
    assert all(torch.equal(x, y) for x, y in zip(*batches, strict=True))


def test_size_must_suit_the_translator_and_precision_the_device(tmp_path, registry, image_writer, capsys):
    from translator.errors import DeviceError
    from translator.training.loop import pick_amp_dtype

    image_writer(tmp_path / "imgs", 1)
    assert main(["--plugin", "cyclegan", "--data-a", str(tmp_path / "imgs"), "--data-b", str(tmp_path / "imgs"),
                 "--size", "18", *COMMON]) == 2
    assert "--size 18 must be a multiple of 4" in capsys.readouterr().err
    assert pick_amp_dtype("auto", torch.device("cpu")) is None
    with pytest.raises(DeviceError, match="needs a CUDA device"):
        pick_amp_dtype("bf16", torch.device("cpu"))


def test_unreadable_files_are_skipped_counted_and_reported(tmp_path, registry, image_writer, capsys):
    image_writer(tmp_path / "imgs", 3, seed=6)
    (tmp_path / "imgs" / "zz_broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    assert main(["--plugin", "tiny-single", "--data", str(tmp_path / "imgs"), "--steps", "2", "--batch-size", "2",
                 "--out", str(tmp_path / "runs"), "--name", "skip", *COMMON], registry=registry) == 0
    assert "skipped 1 unreadable image file(s)" in capsys.readouterr().err
    assert all(s["batch"]["image"].shape == (2, 3, 16, 16) for s in SEEN)  # batches stay full


def test_runs_default_to_translator_home_and_bad_checkpoints_are_refused(tmp_path, registry, image_writer,
                                                                           translator_home, capsys):
    image_writer(tmp_path / "imgs", 2)
    args = ["--plugin", "tiny-single", "--data", str(tmp_path / "imgs"), "--steps", "1", "--name", "home", *COMMON]
    assert main(args, registry=registry) == 0
    checkpoint = translator_home / "runs" / "home" / "last.pt"
    assert checkpoint.is_file()
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])  # truncated by a broken disk, say
    assert main(["--resume", "home", "--steps", "2"], registry=registry) == 2
    assert "last.pt: unreadable training checkpoint" in capsys.readouterr().err
    assert main([*args[:-len(COMMON)], "--name", "b", "--from", "bundled", *COMMON], registry=registry) == 2
    assert "no bundled model to fine-tune" in capsys.readouterr().err
