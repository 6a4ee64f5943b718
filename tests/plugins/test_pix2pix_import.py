"""Importing the reference implementation's pix2pix U-Net generator files.

`ReferenceUnet` below is a compact, independent re-statement of the reference `UnetGenerator`
(junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py): nested skip-connection blocks, each
holding its layers in a Sequential called `model` (outermost: down conv, inner block, ReLU, up
conv, tanh; middle: LeakyReLU, down conv, norm, inner block, ReLU, up conv, norm [, dropout];
innermost: LeakyReLU, down conv, ReLU, up conv, norm), with the reference's in-place
activations and its bias rule. Its state-dict keys are the published files' key layout, and its
eval-mode output is what our import must reproduce.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from translator.checkpoints import CheckpointFile, ImportContext
from translator.errors import CheckpointError
from translator.plugins import load_registry
from translator.spec import RunContext
from translator.store import ModelStore, build_with_weights
from translator_plugins.cyclegan import checkpoints as cyclegan_checkpoints
from translator_plugins.cyclegan import networks as cyclegan_networks
from translator_plugins.pix2pix import checkpoints, networks, plugin

torch.set_num_threads(1)
CTX = RunContext(device=torch.device("cpu"), dtype=torch.float32)


class ReferenceBlock(nn.Module):
    def __init__(self, outer: int, inner: int, in_channels: int | None = None, sub: nn.Module | None = None,
                 outermost: bool = False, norm: str = "batch", dropout: bool = False) -> None:
        super().__init__()
        self.outermost = outermost
        bias = norm == "instance"

        def norm_layer(c: int) -> nn.Module:
            return {"batch": lambda: nn.BatchNorm2d(c),
                    "instance": lambda: nn.InstanceNorm2d(c, affine=False, track_running_stats=False),
                    "none": nn.Identity}[norm]()

        down = nn.Conv2d(in_channels or outer, inner, 4, 2, 1, bias=bias)
        if outermost:
            layers = [down, sub, nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1), nn.Tanh()]
        elif sub is None:
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True),
                      nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=bias), norm_layer(outer)]
        else:
            layers = [nn.LeakyReLU(0.2, True), down, norm_layer(inner), sub, nn.ReLU(True),
                      nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=bias), norm_layer(outer)]
            layers += [nn.Dropout(0.5)] if dropout else []
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class ReferenceUnet(nn.Module):
    def __init__(self, num_downs: int, ngf: int, norm: str = "batch", dropout: bool = True) -> None:
        super().__init__()
        block = ReferenceBlock(ngf * 8, ngf * 8, norm=norm)
        for _ in range(num_downs - 5):
            block = ReferenceBlock(ngf * 8, ngf * 8, sub=block, norm=norm, dropout=dropout)
        for outer in (4, 2, 1):
            block = ReferenceBlock(ngf * outer, ngf * outer * 2, sub=block, norm=norm)
        self.model = ReferenceBlock(3, ngf, in_channels=3, sub=block, outermost=True, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def seeded(module: nn.Module, seed: int = 0) -> nn.Module:
    """Random weights and batch-norm statistics, so that every layer matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in sorted(module.state_dict().items()):
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            elif tensor.is_floating_point():
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.2)
    return module.eval()


def save(tmp_path: Path, state: dict, name: str = "edges2shoes.pth") -> CheckpointFile:
    path = tmp_path / name
    torch.save(state, path)
    return CheckpointFile(path)


def claim(checkpoint: CheckpointFile, **options: str):
    return checkpoints.claim(checkpoint, ImportContext(options=options))


@pytest.mark.parametrize(("num_downs", "norm"), [(5, "batch"), (7, "batch"), (8, "instance"), (6, "none")])
def test_key_layout_maps_exactly_onto_the_reference(num_downs, norm):
    with torch.device("meta"):
        reference = ReferenceUnet(num_downs, 4, norm).state_dict()
        ours = networks.UnetGenerator(4, num_downs, norm).state_dict()
    mapped = checkpoints.to_reference(ours, num_downs)
    assert {k: v.shape for k, v in mapped.items()} == {k: v.shape for k, v in reference.items()}


def test_published_layout_has_the_nested_keys_and_the_paper_size():
    with torch.device("meta"):
        reference = ReferenceUnet(8, 64).state_dict()
    for key in ("model.model.0.weight", "model.model.3.weight", "model.model.3.bias",
                "model.model.1.model.1.weight", "model.model.1.model.2.running_mean",
                "model.model.1.model.3.model.3.model.3.model.3.model.3.model.3.model.1.weight"):
        assert key in reference, key
    assert "model.model.0.bias" not in reference  # no bias before batch norm
    assert sum(v.numel() for k, v in reference.items() if "running" not in k and "batches" not in k) == 54_413_955


@pytest.mark.parametrize(("num_downs", "norm"), [(7, "batch"), (6, "instance")])
def test_imported_generator_reproduces_the_reference_output(tmp_path, num_downs, norm):
    reference = seeded(ReferenceUnet(num_downs, 4, norm), seed=num_downs)
    result = claim(save(tmp_path, reference.state_dict()))
    assert result.config == {"ngf": 4, "num_downs": num_downs, "norm": norm, "use_dropout": True,
                             "size": 2**num_downs, "upsample": "transposed"}
    model = build_with_weights(plugin.build, result.config, result.state_dict, label="golden")
    x = torch.rand(2, 3, 2**num_downs, 2**num_downs, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        expected = reference(x.clone())
        assert (model.G(x) - expected).abs().max().item() < 1e-4
        translated = plugin.translate(model, (x + 1) / 2, {"invert": False}, CTX)
    assert (translated - (expected + 1) / 2).abs().max().item() < 1e-4


def test_full_size_file_with_module_prefix_imports(tmp_path):
    with torch.device("meta"):
        layout = {k: v.shape for k, v in ReferenceUnet(8, 64).state_dict().items()}
    state = {f"module.{k}": (torch.zeros(s, dtype=torch.long) if k.endswith("num_batches_tracked") else torch.zeros(s))
             for k, s in layout.items()}
    result = claim(save(tmp_path, state, "latest_net_G.pth"))
    assert result.translator == "pix2pix"
    assert result.config == {"ngf": 64, "num_downs": 8, "norm": "batch", "use_dropout": True, "size": 256,
                             "upsample": "transposed"}
    assert "'module.' prefix stripped" in result.description and "8 levels" in result.description
    parameters = sum(v.numel() for k, v in result.state_dict.items() if "running" not in k and "batches" not in k)
    assert parameters == 54_413_955
    model = build_with_weights(plugin.build, result.config, result.state_dict, label="full")
    assert model.config["num_downs"] == 8  # inputs padded to multiples of 256


def test_legacy_instance_norm_buffers_are_dropped_and_dropout_is_an_option(tmp_path):
    reference = ReferenceUnet(5, 4, "instance")
    state = dict(reference.state_dict())
    state["model.model.1.model.2.running_mean"] = torch.zeros(8)
    state["model.model.1.model.2.running_var"] = torch.ones(8)
    result = claim(save(tmp_path, state), use_dropout="false")
    assert "2 stale instance-norm buffers dropped" in result.description
    assert result.config["norm"] == "instance" and result.config["use_dropout"] is False
    build_with_weights(plugin.build, result.config, result.state_dict, label="legacy")
    with pytest.raises(CheckpointError, match="use_dropout='maybe'"):
        claim(save(tmp_path, state), use_dropout="maybe")


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.update({"model.model.0.weight": torch.zeros(4, 1, 4, 4)}), "RGB input"),
    (lambda s: s.pop("model.model.3.bias"), "missing model.model.3.bias"),
    (lambda s: s.update({"model.model.7.weight": torch.zeros(3)}), "unexpected model.model.7.weight"),
    (lambda s: s.update({"model.model.1.model.5.weight": torch.zeros(16, 4, 3, 3)}), "wrong shape"),
    (lambda s: [s.pop(k) for k in list(s) if k.startswith("model.model.1.model.3.model.3")], "levels"),
])
def test_unet_that_does_not_fit_is_refused(tmp_path, change, message):
    state = dict(ReferenceUnet(6, 4).state_dict())
    change(state)
    with pytest.raises(CheckpointError, match="looks like a pix2pix U-Net generator") as error:
        claim(save(tmp_path, state))
    assert message in str(error.value)


def test_cyclegan_and_pix2pix_leave_each_others_files_alone(tmp_path):
    unet = save(tmp_path, dict(ReferenceUnet(5, 4).state_dict()), "latest_net_G.pth")
    resnet = cyclegan_checkpoints.to_reference(
        cyclegan_networks.ResnetGenerator(ngf=4, n_blocks=1).state_dict(), 1, False)
    resnet_file = save(tmp_path, resnet, "horse2zebra.pth")
    assert cyclegan_checkpoints.claim(unet, ImportContext()) is None
    assert claim(resnet_file) is None
    patchgan = save(tmp_path, networks.build_discriminator(4).state_dict(), "latest_net_D.pth")
    assert claim(patchgan) is None
    registry = load_registry(third_party=False)
    with pytest.raises(CheckpointError, match="not recognised by plugin 'cyclegan'"):
        registry.claim_checkpoint(unet, "cyclegan")
    assert registry.claim_checkpoint(unet, None, ImportContext()).translator == "pix2pix"
    assert registry.claim_checkpoint(resnet_file, None, ImportContext()).translator == "cyclegan"


def test_import_through_the_model_store(tmp_path):
    reference = seeded(ReferenceUnet(5, 4), seed=3)
    store = ModelStore(load_registry(third_party=False), home=tmp_path / "home")
    entry = store.import_file(save(tmp_path, reference.state_dict(), "facades_label2photo.pth").path)
    assert entry.translator == "pix2pix" and entry.name == "facades_label2photo"
    model = store.load(entry)
    x = torch.rand(1, 3, 32, 64) * 2 - 1
    with torch.no_grad():
        assert (model.G(x) - reference(x.clone())).abs().max().item() < 1e-4
