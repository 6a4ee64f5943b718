"""The history of generated images a discriminator also sees (Shrivastava et al. 2017, 2.3;
CycleGAN, Zhu et al. 2017, 4): it reduces oscillation by showing D older fakes too."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import Tensor


class ImagePool:
    """Keeps up to `size` generated images; `query` returns a batch for the discriminator.

    For each image of the batch: while the pool is not full it is stored and returned; then, with
    probability 1/2, a random stored image is returned and replaced by the new one, else the new
    image is returned. size 0 disables the pool. Its randomness comes from its own generator
    (seeded), so a resumed run draws the same as an uninterrupted one.
    """

    def __init__(self, size: int = 50, *, seed: int = 0, device: torch.device | str = "cpu") -> None:
        import torch

        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = size
        self.device = torch.device(device)
        self.images: list[Tensor] = []
        self.generator = torch.Generator().manual_seed(seed)

    def query(self, images: Tensor) -> Tensor:
        """(B, C, H, W) newly generated images (detached here) -> (B, C, H, W) to show D."""
        import torch

        images = images.detach()
        if self.size == 0:
            return images
        out = []
        for image in images:
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
                continue
            if float(torch.rand((), generator=self.generator)) < 0.5:
                index = int(torch.randint(len(self.images), (), generator=self.generator))
                out.append(self.images[index].clone())
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> dict[str, Any]:
        """Only tensors and numbers (safe for `torch.load(weights_only=True)`), on the CPU."""
        import torch

        stored = torch.cat(self.images, 0).cpu() if self.images else torch.empty(0)
        return {"size": self.size, "images": stored, "generator": self.generator.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore `state_dict()`; the images go to this pool's device."""
        stored = state["images"]
        self.size = int(state["size"])
        self.images = [img.unsqueeze(0).to(self.device) for img in stored] if stored.numel() else []
        self.generator.set_state(state["generator"])
