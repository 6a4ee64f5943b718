"""What the `stylegan` translator does with its parameters: sources -> ws -> image.

A source is a seed, an image (projected into W or W+ first) or saved latents (`.npz`). Source
A is the `source` file, else the input image, else the seed; source B (optional) is the
`style_source` file, else `style_seed`. With B, the `layers` of B are blended into A. A `grid`
renders the official style-mixing figure instead.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator_plugins.stylegan import latents

from translator import api

if TYPE_CHECKING:
    from torch import Tensor
    from translator_plugins.stylegan.networks import Generator

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
MAX_PIXELS = 16_000_000
"""Largest source image projected (4000 x 4000); it is resized to the model's resolution anyway."""


def read_image(path: Path) -> Tensor:
    """An image file as (1, 3, H, W) float RGB in [0, 1] (alpha dropped, gray expanded), read by
    the core's reader: the size is checked from the header before decoding. Raises `DataError`."""
    import torch

    from translator.api.images import ImageError
    from translator.api.images import read_image as read_file

    try:
        image = read_file(path, max_pixels=MAX_PIXELS)
    except ImageError as exc:
        raise api.DataError(str(exc)) from None
    return torch.from_numpy(image.rgb).permute(2, 0, 1)[None].contiguous()


def source_ws(model: Generator, *, seed: int | None, file: str, image: Tensor | None,
              params: Mapping[str, Any], ctx: api.RunContext, label: str) -> Tensor:
    """ws (1, num_ws, w_dim) of one source: latents file, image file, given image, or seed."""
    import torch

    param = next(model.parameters())
    if file:
        path = Path(file).expanduser()
        if path.suffix.lower() == ".npz":
            w = latents.load_latents(path, model.num_ws, model.config.w_dim)
            return torch.from_numpy(w)[None].to(param.device, param.dtype)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise api.ParameterError(f"{label} {path.name}: expected an image or latents (.npz)")
        image = read_image(path)
    if image is not None:
        from translator_plugins.stylegan.project import project

        def progress(fraction: float, message: str) -> None:
            ctx.progress(fraction, f"{label}: {message}")

        return project(model, image.to(param.device), steps=params["project_steps"],
                       space=params["project_space"], progress=progress,
                       check_cancelled=ctx.check_cancelled).ws
    assert seed is not None
    with torch.no_grad():
        return latents.seed_ws(model, [seed], params["truncation"])


def run(model: Generator, images: Tensor | None, params: Mapping[str, Any], ctx: api.RunContext) -> Tensor:
    """The translator's result in [0, 1]: (B, 3, R, R), B = number of input images (else 1),
    or the mixing grid (1, 3, (1 + rows) R, (1 + cols) R). Raises `ParameterError`/`DataError`."""
    import torch

    ctx.check_cancelled()
    noise_mode = params["noise"]
    if params["grid"].strip():
        rows, cols = latents.parse_grid(params["grid"])
        with torch.no_grad():
            grid = latents.mixing_grid(model, rows, cols, params["layers"], psi=params["truncation"],
                                       noise_mode=noise_mode, blend=params["blend"])
        return ((grid[None].float() + 1) / 2).clamp(0, 1)
    chosen = latents.layer_range(params["layers"], model.num_ws)  # checked before any projection
    sources = [params["source"], params["style_source"]]
    if params["save_latents"]:
        latents.check_latents_target(params["save_latents"], sources)
    inputs = [None] if images is None or params["source"] else list(images.split(1))
    style_seed = params["style_seed"].strip()
    style_b = None
    if params["style_source"] or (style_seed and style_seed != "none"):
        style_b = source_ws(model, seed=int(style_seed) if style_seed and style_seed != "none" else None,
                            file=params["style_source"], image=None, params=params, ctx=ctx, label="source B")
    outputs, all_ws = [], []
    for image in inputs:
        ws = source_ws(model, seed=params["seed"], file=params["source"], image=image, params=params, ctx=ctx,
                       label="source A")
        if style_b is not None:
            ws = latents.mix(ws, style_b, chosen, params["blend"])
        ctx.check_cancelled()
        with torch.no_grad():
            outputs.append(model.synthesis(ws, noise_mode))
        all_ws.append(ws)
    if params["save_latents"]:
        latents.save_latents(params["save_latents"], all_ws[0], protected=sources)
    return ((torch.cat(outputs).float() + 1) / 2).clamp(0, 1)
