"""Reading, writing and finding image files.

Reading is defensive: the size in the file's header is checked before anything is decoded (a
"decompression bomb" claiming 100,000 x 100,000 pixels is refused without allocating), EXIF
orientation is applied, 16-bit and alpha channels are kept, grayscale is expanded to RGB, paths
may hold any Unicode. Writing is atomic (a temporary file beside the target, then a rename) and
never replaces an existing file unless asked, nor ever an input file.

Every failure raises `ImageError` with the file name and a reason a person can act on.
"""
from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from translator.errors import ImageError
from translator.image import Image, quantize, to_float

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".jp2", ".pbm",
                            ".pgm", ".ppm", ".pnm", ".exr", ".hdr", ".gif"})
"""File suffixes (lower case) treated as images when scanning folders."""

WRITABLE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
"""Suffixes `write_image` can encode."""

DEFAULT_MAX_PIXELS = 150_000_000
"""Largest image read by default (width x height); about 1.8 GB as float32 RGB. Override with the
environment variable TRANSLATOR_MAX_PIXELS or the `max_pixels` argument."""

_ALPHA_SUFFIXES = frozenset({".png", ".webp", ".tif", ".tiff"})
_DEEP_SUFFIXES = frozenset({".png", ".tif", ".tiff"})

# EXIF orientation tag value -> (transpose first?, then rotations by 90 degrees counter-clockwise,
# then horizontal flip?); see the EXIF 2.3 specification, tag 0x0112.
_EXIF_ORIENTATION = {2: (False, 0, True), 3: (False, 2, False), 4: (False, 2, True), 5: (True, 0, False),
                     6: (False, 3, False), 7: (True, 2, False), 8: (False, 1, False)}


def pixel_limit() -> int:
    """The pixel limit from TRANSLATOR_MAX_PIXELS, else `DEFAULT_MAX_PIXELS`."""
    value = os.environ.get("TRANSLATOR_MAX_PIXELS", "").strip()
    try:
        return int(float(value)) if value else DEFAULT_MAX_PIXELS
    except ValueError:
        return DEFAULT_MAX_PIXELS


def read_image(path: str | Path, *, max_pixels: int | None = None) -> Image:
    """Decode the image file at `path` (any format OpenCV or Pillow reads).

    Raises `ImageError` for a missing, empty, truncated or unrecognised file, or one larger than
    `max_pixels` (default: `pixel_limit()`).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a folder, not an image") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    image = decode_image_bytes(data, str(path), max_pixels=max_pixels)
    return Image(image.pixels, alpha=image.alpha, bit_depth=image.bit_depth, source=path,
                 grayscale=image.grayscale)


def decode_image_bytes(data: bytes, source: str = "image", *, max_pixels: int | None = None) -> Image:
    """Decode an encoded image held in memory (a dropped or pasted file's bytes).

    `source` names it in error messages. Same checks and conversions as `read_image`.
    """
    import cv2

    limit = max_pixels if max_pixels is not None else pixel_limit()
    if not data:
        raise ImageError(f"{source}: empty file")
    size, orientation = _probe(data)
    if size is not None and size[0] * size[1] > limit:
        raise ImageError(f"{source}: {size[0]}x{size[1]} pixels is more than the limit of "
                         f"{limit:,} (set TRANSLATOR_MAX_PIXELS to allow bigger images)")
    buffer = np.frombuffer(data, dtype=np.uint8)
    try:
        decoded = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise ImageError(f"{source}: not a readable image ({_first_line(exc)})") from None
    if decoded is None:
        decoded = _decode_with_pillow(data, source)
    if decoded.size == 0:
        raise ImageError(f"{source}: the image has no pixels")
    if decoded.shape[0] * decoded.shape[1] > limit:
        raise ImageError(f"{source}: {decoded.shape[1]}x{decoded.shape[0]} pixels is more than the limit of "
                         f"{limit:,} (set TRANSLATOR_MAX_PIXELS to allow bigger images)")
    image = _to_image(decoded, source)
    return _orient(image, orientation)


def write_image(path: str | Path, image: Image, *, overwrite: bool = False,
                protected: Iterable[str | Path] = (), bit_depth: int | None = None, quality: int = 95) -> Path:
    """Encode `image` to `path`, the format chosen by its suffix; returns the path written.

    Alpha is kept where the format has it (PNG, WebP, TIFF) and dropped otherwise. bit_depth: 8
    or 16 (PNG and TIFF only); default: the image's own depth where the format allows it.
    quality: JPEG/WebP quality 1-100. The file appears complete or not at all. Raises
    `ImageError` when `path` exists and `overwrite` is false, when it is one of `protected` (the
    inputs of a batch) or when the folder is not writable.
    """
    import cv2

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        raise ImageError(f"{path}: cannot write {suffix or 'files without a suffix'}; use one of "
                         f"{', '.join(sorted(WRITABLE_SUFFIXES))}")
    if _resolved(path) in {_resolved(Path(p)) for p in protected}:
        raise ImageError(f"{path}: refusing to replace an input image")
    if path.exists() and not overwrite:
        raise ImageError(f"{path}: already exists")
    depth = bit_depth or (image.bit_depth if suffix in _DEEP_SUFFIXES else 8)
    if depth not in (8, 16):
        raise ImageError(f"{path}: bit depth must be 8 or 16, not {depth}")
    if depth == 16 and suffix not in _DEEP_SUFFIXES:
        raise ImageError(f"{path}: {suffix} cannot hold 16 bits per channel; use .png or .tif")
    array = _to_array(image, depth, keep_alpha=suffix in _ALPHA_SUFFIXES)
    params: list[int] = []
    if suffix in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif suffix == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
    ok, encoded = cv2.imencode(suffix, array, params)
    if not ok:
        raise ImageError(f"{path}: could not encode as {suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise ImageError(f"{path}: cannot write there ({exc.strerror or exc})") from None
    try:
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; a saved image follows the umask
        with os.fdopen(fd, "wb") as handle:
            handle.write(memoryview(encoded))  # no copy of a big encoded image
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            _link_exclusive(Path(temp), path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def find_images(paths: Iterable[str | Path], *, recursive: bool = True) -> list[Path]:
    """Image files among `paths`: files are taken as given (whatever their suffix), folders are
    scanned for `IMAGE_SUFFIXES` (recursively unless told not to), hidden files and folders
    skipped. Sorted per folder, duplicates dropped, missing paths ignored."""
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        candidates: Iterable[Path]
        if path.is_dir():
            candidates = _scan(path, recursive)
        elif path.is_file():
            candidates = [path]
        else:
            continue
        for candidate in candidates:
            key = _resolved(candidate)
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def suggest_output_path(source: str | Path, out_dir: str | Path, tag: str, fmt: str = "png") -> Path:
    """`out_dir/<stem>_<tag>.<fmt>`, or with `-2`, `-3`, ... appended to the tag when taken."""
    stem = Path(source).stem or "image"
    fmt = fmt.lstrip(".").lower()
    folder = Path(out_dir)
    candidate = folder / f"{stem}_{tag}.{fmt}"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}_{tag}-{number}.{fmt}"
        number += 1
    return candidate


# -- helpers -------------------------------------------------------------------------------------

def _probe(data: bytes) -> tuple[tuple[int, int] | None, int]:
    """(width, height) from the header, without decoding the pixels, and the EXIF orientation
    (1 when absent). Size None when Pillow does not know the format (OpenCV may)."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    PILImage.MAX_IMAGE_PIXELS = None  # we apply our own limit, with our own message
    try:
        with PILImage.open(io.BytesIO(data)) as probe:
            size = (int(probe.width), int(probe.height))
            try:
                orientation = int(probe.getexif().get(0x0112, 1))
            except Exception:  # a damaged EXIF block must not make the image unreadable
                orientation = 1
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None, 1
    return size, orientation


def _decode_with_pillow(data: bytes, source: str) -> np.ndarray:
    """Formats OpenCV lacks (GIF...): decoded by Pillow into an OpenCV-style BGR(A) array."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(data)) as image:
            image.load()
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                array = np.asarray(image, dtype=np.uint32).clip(0, 65535).astype(np.uint16)
                return array
            rgba = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            converted = np.asarray(image.convert("RGBA" if rgba else "RGB"))
    except Exception as exc:  # Pillow raises many types for damaged files
        raise ImageError(f"{source}: not a readable image ({_first_line(exc) or type(exc).__name__})") from None
    import cv2

    return cv2.cvtColor(converted, cv2.COLOR_RGBA2BGRA if converted.shape[2] == 4 else cv2.COLOR_RGB2BGR)


def _to_image(decoded: np.ndarray, source: str) -> Image:
    """OpenCV's decoded array (gray, BGR or BGRA; uint8, uint16 or float) -> `Image`, colour kept
    as uint8/uint16 planes (float sources become float32 in [0, 1])."""
    if decoded.dtype == np.uint8:
        depth = 8
    elif decoded.dtype == np.uint16:
        depth = 16
    elif decoded.dtype in (np.float32, np.float64, np.float16):
        depth = 16
        decoded = np.clip(np.nan_to_num(decoded.astype(np.float32)), 0.0, 1.0)
    else:
        raise ImageError(f"{source}: unsupported pixel type {decoded.dtype}")
    if decoded.ndim == 2:
        decoded = decoded[..., None]
    channels = decoded.shape[2]
    alpha = None
    if channels in (2, 4):
        alpha = np.ascontiguousarray(np.clip(to_float(decoded[..., -1]), 0.0, 1.0), dtype=np.float32)
        decoded = decoded[..., :-1]
    if decoded.shape[2] == 1:
        rgb = np.repeat(decoded, 3, axis=2)
        grayscale = True
    elif decoded.shape[2] == 3:
        rgb = np.ascontiguousarray(decoded[..., ::-1])
        grayscale = False
    else:
        raise ImageError(f"{source}: unsupported number of channels ({channels})")
    return Image(rgb, alpha=alpha, bit_depth=depth, grayscale=grayscale)


def _orient(image: Image, orientation: int) -> Image:
    """Apply an EXIF orientation so the pixels appear upright."""
    if orientation not in _EXIF_ORIENTATION:
        return image
    transpose, turns, flip = _EXIF_ORIENTATION[orientation]

    def fix(array: np.ndarray) -> np.ndarray:
        if transpose:
            array = np.swapaxes(array, 0, 1)
        if turns:
            array = np.rot90(array, turns)
        if flip:
            array = array[:, ::-1]
        return np.ascontiguousarray(array)

    alpha = fix(image.alpha) if image.alpha is not None else None
    return Image(fix(image.pixels), alpha=alpha, bit_depth=image.bit_depth, source=image.source,
                 grayscale=image.grayscale)


def _to_array(image: Image, depth: int, *, keep_alpha: bool) -> np.ndarray:
    """`Image` -> OpenCV BGR(A) array of uint8 or uint16 (without a float copy when the image's
    planes already have that depth)."""
    dtype = np.uint16 if depth == 16 else np.uint8
    planes = image.pixels
    if planes.dtype != dtype:
        planes = quantize(to_float(planes), np.dtype(dtype))
    channels = [planes[..., 2], planes[..., 1], planes[..., 0]]
    if keep_alpha and image.alpha is not None:
        channels.append(quantize(image.alpha, np.dtype(dtype)))
    return np.stack(channels, axis=-1)


def _link_exclusive(temp: Path, target: Path) -> None:
    """Move `temp` to `target` only if `target` does not exist (no race with another writer)."""
    try:
        os.link(temp, target)
    except FileExistsError:
        raise ImageError(f"{target}: already exists") from None
    except OSError:
        # file systems without hard links: a small race window remains
        if target.exists():
            raise ImageError(f"{target}: already exists") from None
        os.replace(temp, target)
        return
    temp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _scan(folder: Path, recursive: bool) -> Iterator[Path]:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name.lower())
    except OSError:
        return
    subfolders = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            subfolders.append(entry)
        elif entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES:
            yield entry
    if recursive:
        for sub in subfolders:
            yield from _scan(sub, recursive)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1].strip() if text else ""
