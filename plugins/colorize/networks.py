"""Colorization networks: lightness L plus sparse ab hints -> chroma ab.

Three architectures share one interface, `forward(L, hint_ab, hint_mask) -> ab`:

- `UNet` (ours, trained by `translator-train`): the user-guided network of Zhang et al. 2017,
  "Real-Time User-Guided Image Colorization with Learned Deep Priors" (arXiv 1705.02999), scaled
  down: an encoder of conv blocks, a dilated middle for image-wide context, a decoder whose
  upsampled features are *added* to shortcut convolutions of the encoder, and a tanh regression
  head. Its input is L with the hint ab and the hint mask, plus the hints spread to nearby pixels
  of similar lightness by a fixed filter (`spread_hints`); its output is blended towards that
  spread colour by the spread's confidence, so a hint holds around its point from the first
  step and the network learns the rest (a prior that makes hints useful after short training).
- `ECCV16`: the automatic classifier of Zhang et al. 2016 "Colorful Image Colorization" as
  published in the authors' PyTorch port (richzhang/colorization, `colorizers/eccv16.py`): a
  distribution over 313 ab bins, decoded exactly as the port does (softmax, a fixed 1x1
  convolution onto the bin centres, 4x bilinear upsampling). It ignores hints.
- `SIGGRAPH17`: the full-size network of the 2017 paper as in the port (`colorizers/siggraph17.py`),
  which follows hints.

The two official ones keep the port's module names (`model1` ... `model10`, `model8up`,
`model3short8`, `model_out`, ...) and layer indices, so the published state dicts load as they are.

Shapes: L (B, 1, H, W) in [0, 100]; hint_ab (B, 2, H, W) in Lab units; hint_mask (B, 1, H, W) in
{0, 1}; result (B, 2, H, W) in Lab units. H and W must be multiples of `size_multiple`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from translator import api
from translator_plugins.colorize.lab import AB_NORM, normalize_ab, normalize_l
from translator_plugins.colorize.plugin import CONFIG

ECCV16_BINS = 313
"""ab bins of the 2016 classifier (the in-gamut cells of a grid of spacing 10)."""
SIGGRAPH17_CLASSES = 529
"""Classes of the 2017 network's auxiliary classification head (23 x 23 ab cells); unused here."""


def conv_block(channels: Sequence[int], *, stride_last: int = 1, dilation: int = 1, lead_relu: bool = False,
               norm: bool = True) -> nn.Sequential:
    """3x3 convolutions channels[0] -> channels[1] -> ..., each followed by ReLU, then BatchNorm.

    The layout of Zhang et al.'s blocks: convolutions at even indices (odd ones after a leading
    ReLU), the norm last. stride_last: stride of the last convolution (the 2016 network's
    downsampling). dilation: of every convolution (padding keeps the size).
    """
    layers: list[nn.Module] = [nn.ReLU(inplace=True)] if lead_relu else []
    pairs = list(zip(channels[:-1], channels[1:]))
    for i, (cin, cout) in enumerate(pairs):
        stride = stride_last if i == len(pairs) - 1 else 1
        layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation), nn.ReLU(inplace=True)]
    if norm:
        layers.append(nn.BatchNorm2d(channels[-1]))
    return nn.Sequential(*layers)


def _network_input(lightness: Tensor, hint_ab: Tensor, hint_mask: Tensor) -> Tensor:
    """(B, 4, H, W): normalised L, normalised hint ab, mask."""
    return torch.cat([normalize_l(lightness), normalize_ab(hint_ab), hint_mask], dim=1)


SPREAD_LEVELS = 8
"""Lightness levels of `spread_hints` (a coarse bilateral grid over L)."""
SPREAD_SIGMA = 12.5
"""Lightness tolerance of `spread_hints`, in L units."""
SPREAD_FULL_AREA = 16.0
"""Hint pixels (of the same lightness, right there) that give `spread_hints` full confidence."""


def _smooth(x: Tensor, side: int) -> Tensor:
    """An isotropic Gaussian blur reaching about `side` pixels (sigma side / 2, replicated
    borders): round, soft-edged spreads rather than the squares a separable box filter gives."""
    import kornia

    size = 2 * side + 1
    return kornia.filters.gaussian_blur2d(x, (size, size), (side / 2, side / 2), border_type="replicate")


def spread_hints(lightness: Tensor, hint_ab: Tensor, hint_mask: Tensor) -> tuple[Tensor, Tensor]:
    """The hints spread to the pixels of similar lightness within 1/8 of the image side.

    A fixed, parameter-free prior of our U-Net (a lightness-aware normalised Gaussian filter,
    evaluated on `SPREAD_LEVELS` lightness levels, like a coarse bilateral grid): each pixel gets
    the mean ab of the hints in reach, weighted by closeness and lightness similarity, and a
    confidence in [0, 1]: about 1 on and right beside a hint, falling with the distance, 0 where
    no hint of similar lightness reaches. Returns (ab (B, 2, H, W), confidence (B, 1, H, W)).
    """
    side = max(3, max(hint_ab.shape[-2:]) // 8) | 1
    levels = torch.linspace(0.0, 100.0, SPREAD_LEVELS, device=lightness.device, dtype=lightness.dtype)
    affinity = torch.exp(-((lightness - levels.view(1, -1, 1, 1)) ** 2) / (2 * SPREAD_SIGMA**2))  # (B, K, H, W)
    splat = hint_mask * affinity
    weight = _smooth(splat, side)
    total_a = _smooth(splat * hint_ab[:, :1], side)
    total_b = _smooth(splat * hint_ab[:, 1:], side)
    mass = (weight * affinity).sum(dim=1, keepdim=True)
    ab = torch.cat([(total_a * affinity).sum(dim=1, keepdim=True),
                    (total_b * affinity).sum(dim=1, keepdim=True)], dim=1) / mass.clamp_min(1e-8)
    confidence = (mass * (side * side / SPREAD_FULL_AREA)).clamp(max=1.0)
    return ab * (mass > 1e-8).to(ab.dtype), confidence


def upsampler(cin: int, cout: int, kind: str) -> nn.Module:
    """2x upsampling cin -> cout channels: a 4x4 transposed convolution, or ("resize") bilinear
    resizing then a 3x3 convolution, which cannot leave a checkerboard."""
    if kind == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                             nn.Conv2d(cin, cout, 3, padding=1))
    return nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)


class UNet(nn.Module):
    """Our colorization network (see the module docstring); ~3.5 M parameters at width 32.

    With `hints` it is user-guided: its input is L, hint ab, hint mask (as the paper) and the
    spread hints (`spread_hints`: ab, confidence), 7 channels. Without, it sees L only and
    ignores hints (`follows_hints` False).
    """

    def __init__(self, width: int = 32, depth: int = 3, middle: int = 2, hints: bool = True,
                 upsample: str = "transpose", chroma: float = 1.0) -> None:
        super().__init__()
        self.size_multiple = 2**depth
        self.chroma = float(chroma)
        self.follows_hints = hints
        self.in_channels = 7 if hints else 1
        ch = [width * 2 ** min(i, 3) for i in range(depth + 1)]
        self.encoders = nn.ModuleList(
            [conv_block([self.in_channels, ch[0], ch[0]])]
            + [nn.Sequential(nn.Conv2d(ch[i - 1], ch[i], 3, stride=2, padding=1), nn.ReLU(inplace=True),
                             conv_block([ch[i], ch[i]])) for i in range(1, depth + 1)])
        self.middle = conv_block([ch[depth]] * (middle + 1), dilation=2) if middle else nn.Identity()
        self.ups = nn.ModuleList(upsampler(ch[i + 1], ch[i], upsample) for i in range(depth))
        self.shortcuts = nn.ModuleList(nn.Conv2d(ch[i], ch[i], 3, padding=1) for i in range(depth))
        self.decoders = nn.ModuleList(conv_block([ch[i], ch[i]], lead_relu=True) for i in range(depth))
        self.head = nn.Conv2d(ch[0], 2, 1)

    def forward(self, lightness: Tensor, hint_ab: Tensor | None = None, hint_mask: Tensor | None = None) -> Tensor:
        if not self.follows_hints:
            return self._decode(normalize_l(lightness))
        spread_ab, confidence = spread_hints(lightness, hint_ab, hint_mask)
        # the spread colour fades with its confidence: its raw form ends in a hard square edge where
        # the filter's support ends, which the network would learn to paint
        x = torch.cat([_network_input(lightness, hint_ab, hint_mask), normalize_ab(spread_ab * confidence),
                       confidence], dim=1)
        return torch.lerp(self._decode(x), spread_ab, confidence)  # hints hold where they are confident

    def _decode(self, x: Tensor) -> Tensor:
        """(B, in_channels, H, W) network input -> ab (B, 2, H, W) in Lab units."""
        features = []
        for encoder in self.encoders:
            x = encoder(x)
            features.append(x)
        x = self.middle(x)
        for level in reversed(range(len(self.ups))):
            x = self.ups[level](x) + self.shortcuts[level](features[level])
            x = self.decoders[level](x)
        return torch.tanh(self.head(x)) * (AB_NORM * self.chroma)


class ECCV16(nn.Module):
    """Zhang et al. 2016 in the layout of the authors' PyTorch port (313-bin classifier).

    ab = 110 * upsample4(model_out(softmax(model8(... model1((L - 50) / 100))))): `model_out`
    is a bias-free 1x1 convolution whose weights (from the checkpoint) are the bin centres, so it
    takes the expectation of the distribution over the bins (no further temperature is applied,
    as in the port).
    """

    follows_hints = False
    size_multiple = 8

    def __init__(self) -> None:
        super().__init__()
        self.model1 = conv_block([1, 64, 64], stride_last=2)
        self.model2 = conv_block([64, 128, 128], stride_last=2)
        self.model3 = conv_block([128, 256, 256, 256], stride_last=2)
        self.model4 = conv_block([256, 512, 512, 512])
        self.model5 = conv_block([512, 512, 512, 512], dilation=2)
        self.model6 = conv_block([512, 512, 512, 512], dilation=2)
        self.model7 = conv_block([512, 512, 512, 512])
        self.model8 = nn.Sequential(
            nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, ECCV16_BINS, 1))
        self.model_out = nn.Conv2d(ECCV16_BINS, 2, 1, bias=False)
        self.model_out.weight.requires_grad_(False)  # the bin centres: fixed, also when fine-tuning

    def bin_logits(self, lightness: Tensor) -> Tensor:
        """(B, 313, H/4, W/4) logits over the ab bins."""
        x = normalize_l(lightness)
        for block in (self.model1, self.model2, self.model3, self.model4, self.model5, self.model6,
                      self.model7, self.model8):
            x = block(x)
        return x

    def forward(self, lightness: Tensor, hint_ab: Tensor | None = None, hint_mask: Tensor | None = None) -> Tensor:
        expected = self.model_out(torch.softmax(self.bin_logits(lightness), dim=1))
        return F.interpolate(expected, scale_factor=4, mode="bilinear", align_corners=False) * AB_NORM


class SIGGRAPH17(nn.Module):
    """Zhang et al. 2017 in the layout of the authors' PyTorch port (follows hints).

    conv1 runs at full size, conv2 to conv4 each on a 2x subsampled (every other pixel) map,
    conv5/6 dilated, then three transposed-conv upsamplings each added to a shortcut conv of the
    encoder (model3short8, model2short9, model1short10), and a tanh regression head. The
    classification head `model_class` is kept so the published weights load strictly, unused.
    """

    follows_hints = True
    size_multiple = 8

    def __init__(self) -> None:
        super().__init__()
        self.model1 = conv_block([4, 64, 64])
        self.model2 = conv_block([64, 128, 128])
        self.model3 = conv_block([128, 256, 256, 256])
        self.model4 = conv_block([256, 512, 512, 512])
        self.model5 = conv_block([512, 512, 512, 512], dilation=2)
        self.model6 = conv_block([512, 512, 512, 512], dilation=2)
        self.model7 = conv_block([512, 512, 512, 512])
        self.model8up = nn.Sequential(nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1))
        self.model3short8 = nn.Sequential(nn.Conv2d(256, 256, 3, padding=1))
        self.model8 = conv_block([256, 256, 256], lead_relu=True)
        self.model9up = nn.Sequential(nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1))
        self.model2short9 = nn.Sequential(nn.Conv2d(128, 128, 3, padding=1))
        self.model9 = conv_block([128, 128], lead_relu=True)
        self.model10up = nn.Sequential(nn.ConvTranspose2d(128, 128, 4, stride=2, padding=1))
        self.model1short10 = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1))
        self.model10 = nn.Sequential(nn.ReLU(inplace=True), nn.Conv2d(128, 128, 3, padding=1),
                                     nn.LeakyReLU(negative_slope=0.2))
        self.model_class = nn.Sequential(nn.Conv2d(256, SIGGRAPH17_CLASSES, 1))
        self.model_out = nn.Sequential(nn.Conv2d(128, 2, 1), nn.Tanh())

    def forward(self, lightness: Tensor, hint_ab: Tensor, hint_mask: Tensor) -> Tensor:
        conv1 = self.model1(_network_input(lightness, hint_ab, hint_mask))
        conv2 = self.model2(conv1[:, :, ::2, ::2])
        conv3 = self.model3(conv2[:, :, ::2, ::2])
        conv7 = self.model7(self.model6(self.model5(self.model4(conv3[:, :, ::2, ::2]))))
        conv8 = self.model8(self.model8up(conv7) + self.model3short8(conv3))
        conv9 = self.model9(self.model9up(conv8) + self.model2short9(conv2))
        conv10 = self.model10(self.model10up(conv9) + self.model1short10(conv1))
        return self.model_out(conv10) * AB_NORM


class PatchDiscriminator(nn.Module):
    """PatchGAN critic of Lab images (B, 3, H, W) = (normalised L, normalised ab), for the
    optional adversarial term of training: C64-C128-C256 (stride 2), C512 (stride 1), 1 channel."""

    def __init__(self, ndf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        channels = ndf
        for i in range(1, n_layers + 1):
            out = ndf * 2 ** min(i, 3)
            layers += [nn.Conv2d(channels, out, 4, stride=2 if i < n_layers else 1, padding=1),
                       nn.InstanceNorm2d(out, affine=True), nn.LeakyReLU(0.2, inplace=True)]
            channels = out
        layers.append(nn.Conv2d(channels, 1, 4, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, lab_normalized: Tensor) -> Tensor:
        return self.model(lab_normalized)


def build(config: Mapping[str, Any]) -> nn.Module:
    """A fresh float32 CPU network as `config` describes (checked against `plugin.CONFIG`, missing
    keys at their defaults; raises `ParameterError`)."""
    made = api.resolve_params(CONFIG, config)
    if made["architecture"] == "eccv16":
        return ECCV16()
    if made["architecture"] == "siggraph17":
        return SIGGRAPH17()
    return UNet(made["width"], made["depth"], made["middle"], made["hints"], made["upsample"], made["chroma"])
