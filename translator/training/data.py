"""Training data: folders scanned for images, decoded in DataLoader workers, augmented on the
training device with kornia.

Workers only decode (and shrink very large images with area averaging); they hand over uint8
(3, H, W) tensors. `Augment` then resizes (shorter side to `load_size`), randomly crops
`size` x `size` and flips, on the device. Paired images share one crop and flip.

The order of the images is a pure function of (seed, epoch, position), so a resumed run sees the
same batches as an uninterrupted one (see `EpochSampler`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translator.errors import DataError, TranslatorError
from translator.training.spec import DataKind

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import Tensor

log = logging.getLogger(__name__)

MAX_PIXELS = 64_000_000
"""Images larger than this are refused (decompression bombs), counted as unreadable."""
UNREADABLE = (TranslatorError, OSError, ValueError)
"""What reading a damaged image may raise; such files are skipped and counted."""
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class RejectedImage(TranslatorError):
    """A readable image the translator's `TrainingSpec.reject` check refused (`reason`)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


# -- reading ---------------------------------------------------------------------------------

def find_images(folder: Path) -> list[Path]:
    """Image files under `folder`, recursively, sorted (`translator.imageio.find_images` when
    it exists)."""
    try:
        from translator import imageio
    except ImportError:
        return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    return list(imageio.find_images([folder], recursive=True))


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) float32 RGB in [0, 1]; raises `TranslatorError` (ImageError) when unreadable."""
    try:
        from translator import imageio
    except ImportError:
        return _read_rgb_cv2(path)
    return imageio.read_image(path, max_pixels=MAX_PIXELS).rgb


def _read_rgb_cv2(path: Path) -> np.ndarray:
    import cv2
    import numpy as np

    from translator.errors import ImageError

    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data is not None and data.size else None
    if image is None:
        raise ImageError(f"{path}: not a readable image")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    else:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    scale = 65535.0 if image.dtype == np.uint16 else 255.0
    return image.astype(np.float32) / scale


def load_uint8(path: Path, *, max_side: int | None = None, split: str | None = None) -> Tensor:
    """Decode one image to a uint8 (3, H, W) tensor.

    max_side: shrink (area averaging) so the shorter side is at most this, to spare the transfer.
    split: "left" or "right" half of a side-by-side AB image.
    Raises `TranslatorError` when the file is unreadable (or, with `split`, narrower than 2 px).
    """
    import cv2
    import numpy as np
    import torch

    rgb = read_rgb(path)
    if split is not None:
        if rgb.shape[1] < 2:
            from translator.errors import ImageError

            raise ImageError(f"{path}: {rgb.shape[1]} px wide, too narrow to hold an A and a B half "
                             "side by side")
        half = rgb.shape[1] // 2
        rgb = rgb[:, :half] if split == "left" else rgb[:, half:2 * half]
    height, width = rgb.shape[:2]
    if max_side is not None and min(height, width) > max_side:
        scale = max_side / min(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    array = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


# -- sources ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """How to read one training image: file, optional half of a side-by-side image."""

    path: Path
    split: str | None = None


def scan_folder(folder: Path | str, label: str) -> list[Path]:
    """The image files of a folder, recursively; raises `DataError` for a missing folder or one
    without image files (naming the option `label`, e.g. "--data-a")."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise DataError(f"{label} {folder}: no such folder")
    if not folder.is_dir():
        raise DataError(f"{label} {folder}: not a folder")
    files = find_images(folder)
    if not files:
        raise DataError(f"{label} {folder}: no image files found (looked for "
                        f"{', '.join(IMAGE_SUFFIXES)}, recursively)")
    return files


@dataclass
class Sources:
    """The training data: for each batch key ("A", "B" or "image") its list of items.

    paired: items of all keys are aligned (index i of "A" goes with index i of "B").
    folders: for the model card, key -> folder as given.
    """

    items: dict[str, list[Item]]
    paired: bool
    folders: dict[str, str]

    def counts(self) -> dict[str, int]:
        return {key: len(items) for key, items in self.items.items()}

    def describe(self) -> dict[str, Any]:
        return {key: {"folder": self.folders[key], "images": len(items)} for key, items in self.items.items()}


def make_sources(kind: DataKind, *, data: str | None = None, data_a: str | None = None,
                 data_b: str | None = None, direction: str = "AtoB", target_only: bool = False) -> Sources:
    """Scan the folders the data kind asks for; raises `DataError` with the option to fix.

    target_only (PAIRED, see `TrainingSpec.input_from_target`): `data` holds target images alone,
    or is a paired folder whose target side (B/, or A/ for BtoA) is used; the sources hold only "B".
    """
    if kind is DataKind.UNPAIRED:
        if not data_a or not data_b:
            raise DataError("unpaired training needs both --data-a DIR and --data-b DIR")
        a = [Item(p) for p in scan_folder(data_a, "--data-a")]
        b = [Item(p) for p in scan_folder(data_b, "--data-b")]
        return Sources({"A": a, "B": b}, paired=False, folders={"A": str(data_a), "B": str(data_b)})
    if not data:
        raise DataError(f"{kind.value} training needs --data DIR")
    if kind is DataKind.SINGLE:
        return Sources({"image": [Item(p) for p in scan_folder(data, "--data")]}, paired=False,
                       folders={"image": str(data)})
    root = Path(data).expanduser()
    if target_only:
        folder = root
        if (root / "A").is_dir() and (root / "B").is_dir():
            folder = root / ("A" if direction == "BtoA" else "B")
        files = scan_folder(folder, "--data")
        return Sources({"B": [Item(p) for p in files]}, paired=False, folders={"B": str(folder)})
    if (root / "A").is_dir() and (root / "B").is_dir():
        a_files = {p.relative_to(root / "A").with_suffix(""): p for p in scan_folder(root / "A", "--data")}
        b_files = {p.relative_to(root / "B").with_suffix(""): p for p in scan_folder(root / "B", "--data")}
        common = sorted(set(a_files) & set(b_files))
        if not common:
            raise DataError(f"--data {root}: A/ and B/ share no file names, so no pairs can be formed")
        skipped = len(a_files) + len(b_files) - 2 * len(common)
        if skipped:
            log.warning("--data %s: %d images without a partner of the same name are ignored", root, skipped)
        a = [Item(a_files[k]) for k in common]
        b = [Item(b_files[k]) for k in common]
        folders = {"A": str(root / "A"), "B": str(root / "B")}
    else:
        files = scan_folder(root, "--data")
        a = [Item(p, "left") for p in files]
        b = [Item(p, "right") for p in files]
        folders = {"A": f"{root} (left halves)", "B": f"{root} (right halves)"}
    if direction == "BtoA":
        a, b = b, a
        folders = {"A": folders["B"], "B": folders["A"]}
    elif direction != "AtoB":
        raise DataError(f"--direction {direction!r} must be AtoB or BtoA")
    return Sources({"A": a, "B": b}, paired=True, folders=folders)


# -- order -----------------------------------------------------------------------------------

class EpochSampler:
    """Yields, forever, one index per source key for each sample: a fresh permutation of every
    source each epoch (seeded by (seed, epoch)), an epoch as long as the largest source (smaller
    ones wrap around, as the reference's unpaired loader). Paired sources share one permutation.

    Sharded for distributed training: rank r takes samples r, r + world, ...
    The position is set from outside (`start`) so a resumed run continues exactly.
    """

    def __init__(self, counts: Mapping[str, int], *, seed: int, paired: bool, rank: int = 0,
                 world: int = 1, shuffle: bool = True) -> None:
        self.counts = dict(counts)
        self.seed = seed
        self.paired = paired
        self.rank = rank
        self.world = world
        self.shuffle = shuffle
        self.epoch_length = max(self.counts.values()) // world
        if self.epoch_length < 1:
            raise DataError(f"too few images ({max(self.counts.values())}) for {world} processes")
        self.start_epoch = 0
        self.start_offset = 0

    def start(self, epoch: int, offset: int) -> None:
        """Begin at sample `offset` (per rank) of `epoch`."""
        self.start_epoch, self.start_offset = epoch, offset

    def _epoch(self, epoch: int) -> dict[str, list[int]]:
        import torch

        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        total = self.epoch_length * self.world
        order: dict[str, list[int]] = {}
        shared: list[int] | None = None
        for key, count in self.counts.items():
            if self.paired and shared is not None:
                order[key] = shared
                continue
            perm = torch.randperm(count, generator=generator) if self.shuffle else torch.arange(count)
            reps = -(-total // count)
            indices = perm.repeat(reps)[:total].tolist()
            order[key] = indices[self.rank::self.world][:self.epoch_length]
            shared = order[key]
        return order

    def __iter__(self) -> Iterator[dict[str, int]]:
        epoch, offset = self.start_epoch, self.start_offset
        while True:
            order = self._epoch(epoch)
            for i in range(offset, self.epoch_length):
                yield {key: indices[i] for key, indices in order.items()}
            epoch, offset = epoch + 1, 0


class ImageDataset:
    """Map-style dataset over `Sources`: index {key: i} -> {key: uint8 (3, H, W)} plus
    "_skipped": the files found unreadable while getting it and "_rejected": [path, reason] of
    the files `reject` refused (each replaced by the next usable one of its source, so a batch
    is always full)."""

    def __init__(self, sources: Sources, *, max_side: int | None,
                 reject: Callable[[Tensor], str | None] | None = None) -> None:
        self.sources = sources
        self.max_side = max_side
        self.reject = reject

    def __getitem__(self, index: Mapping[str, int]) -> dict[str, Any]:
        out: dict[str, Any] = {"_skipped": [], "_rejected": []}
        if self.sources.paired:
            keys = list(self.sources.items)
            n = len(self.sources.items[keys[0]])
            i = index[keys[0]]
            for attempt in range(n):
                j = (i + attempt) % n
                try:
                    images = {k: self._load(self.sources.items[k][j]) for k in keys}
                except RejectedImage as exc:
                    out["_rejected"].append([str(exc.path), exc.reason])
                    continue
                except UNREADABLE:
                    out["_skipped"].append(str(self.sources.items[keys[0]][j].path))
                    continue
                out.update(images)
                return out
            raise DataError("no readable image pair left in the training data")
        for key, items in self.sources.items.items():
            for attempt in range(len(items)):
                item = items[(index[key] + attempt) % len(items)]
                try:
                    out[key] = self._load(item)
                    break
                except RejectedImage as exc:
                    out["_rejected"].append([str(exc.path), exc.reason])
                except UNREADABLE:
                    out["_skipped"].append(str(item.path))
            else:
                raise DataError(f"no readable image left in {self.sources.folders[key]}")
        return out

    def _load(self, item: Item) -> Tensor:
        """The decoded image; raises `RejectedImage` when `reject` refuses it."""
        image = load_uint8(item.path, max_side=self.max_side, split=item.split)
        reason = self.reject(image) if self.reject is not None else None
        if reason:
            raise RejectedImage(item.path, reason)
        return image

    def __len__(self) -> int:  # pragma: no cover - sampled through EpochSampler only
        return max(len(v) for v in self.sources.items.values())


def collate(samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Lists per key (images of different sizes cannot be stacked before `Augment`)."""
    keys = [k for k in samples[0] if not k.startswith("_")]
    out: dict[str, Any] = {k: [s[k] for s in samples] for k in keys}
    out["_skipped"] = [path for s in samples for path in s["_skipped"]]
    out["_rejected"] = [entry for s in samples for entry in s.get("_rejected", [])]
    return out


def first_readable(sources: Sources, count: int, *, max_side: int | None,
                   reject: Callable[[Tensor], str | None] | None = None) -> dict[str, list[Tensor]]:
    """Up to `count` decoded (and not rejected) images per key, in file order, as many for every
    key (the fixed sample set); raises `DataError` when a source holds no usable image at all."""
    dataset = ImageDataset(sources, max_side=max_side, reject=reject)
    found: dict[str, list[Tensor]] = {k: [] for k in sources.items}
    if sources.paired:
        keys = list(sources.items)
        for i in range(len(sources.items[keys[0]])):
            try:
                images = {k: dataset._load(sources.items[k][i]) for k in keys}
            except UNREADABLE:
                continue
            for key in keys:
                found[key].append(images[key])
            if len(found[keys[0]]) >= count:
                break
    else:
        for key, items in sources.items.items():
            for item in items:
                try:
                    found[key].append(dataset._load(item))
                except UNREADABLE:
                    continue
                if len(found[key]) >= count:
                    break
    for key, images in found.items():
        if not images:
            raise DataError(f"{sources.folders[key]}: none of its {len(sources.items[key])} image files "
                            "could be read" + (" and used" if reject is not None else ""))
    shortest = min(len(images) for images in found.values())
    return {key: images[:shortest] for key, images in found.items()}


# -- augmentation ----------------------------------------------------------------------------

class Augment:
    """On-device augmentation: uint8 (3, H, W) images -> float (B, 3, size, size) in [0, 1].

    Each image is resized (antialiased, kornia) so its shorter side is `load_size`, then a random
    `size` x `size` crop is taken and, if `flip`, mirrored with probability 1/2. Keys in one
    batch that are `paired` share the crop and flip. Randomness comes from `generator` (CPU), so
    it can be checkpointed. `train=False` gives the centre crop without flip (sample grids).
    """

    def __init__(self, size: int, load_size: int, *, flip: bool = True, seed: int = 0) -> None:
        import torch

        if load_size < size:
            raise ValueError(f"load size {load_size} is smaller than the crop size {size}")
        self.size = size
        self.load_size = load_size
        self.flip = flip
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, batch: Mapping[str, Sequence[Tensor]], device: torch.device, *, paired: bool,
                 train: bool = True, channels_last: bool = False) -> dict[str, Tensor]:
        import torch

        keys = [k for k in batch if not k.startswith("_")]
        n = len(batch[keys[0]])
        out: dict[str, list[Tensor]] = {k: [] for k in keys}
        for i in range(n):
            params: tuple[float, float, bool] | None = None
            for key in keys:
                image = self._resize(batch[key][i].to(device, non_blocking=True))
                if params is None or not paired:
                    if train:
                        u = torch.rand(3, generator=self.generator).tolist()
                        params = (u[0], u[1], self.flip and u[2] < 0.5)
                    else:
                        params = (0.5, 0.5, False)
                out[key].append(self._crop(image, *params))
        memory = torch.channels_last if channels_last else torch.contiguous_format
        return {k: torch.stack(v).contiguous(memory_format=memory) for k, v in out.items()}

    def _resize(self, image: Tensor) -> Tensor:
        import kornia

        x = image.float().div_(255.0).unsqueeze(0)
        height, width = x.shape[-2:]
        scale = self.load_size / min(height, width)
        size = (max(self.size, round(height * scale)), max(self.size, round(width * scale)))
        if size != (height, width):
            x = kornia.geometry.transform.resize(x, size, interpolation="bilinear", antialias=True)
        return x.clamp_(0.0, 1.0)[0]

    def _crop(self, image: Tensor, u: float, v: float, flip: bool) -> Tensor:
        height, width = image.shape[-2:]
        top = min(int(u * (height - self.size + 1)), height - self.size)
        left = min(int(v * (width - self.size + 1)), width - self.size)
        crop = image[:, top:top + self.size, left:left + self.size]
        return crop.flip(-1) if flip else crop

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.generator.set_state(state["generator"])
