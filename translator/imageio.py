"""Reading, writing and finding image files.

Reading is defensive: the size in the file's header is checked before anything is decoded (a
"decompression bomb" claiming 100,000 x 100,000 pixels is refused without allocating). OpenCV
decodes only formats recognised here by their signature and whose size was read from the same
header it will decode (by Pillow, or by the small parsers below for Radiance HDR, PAM, PFM and
the JPEG 2000 codestream); any other file is decoded by Pillow after the same check, or refused.
EXIF orientation is applied, 16-bit and alpha channels are kept, grayscale is expanded to RGB, paths
may hold any Unicode. Writing is atomic (a temporary file beside the target, then a rename) and
never replaces an existing file unless asked, nor ever an input file.

Every failure raises `ImageError` with the file name and a reason a person can act on.
"""
from __future__ import annotations

import io
import math
import os
import re
import struct
import tempfile
import warnings
from collections.abc import Callable, Container, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from translator.errors import ImageError
from translator.image import Image, quantize, to_float

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".jp2", ".pbm",
                            ".pgm", ".ppm", ".pnm", ".exr", ".hdr", ".gif"})
"""File suffixes (lower case) treated as images when scanning folders."""

WRITABLE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
"""Suffixes `write_image` can encode."""

DEFAULT_MAX_PIXELS = 16_000_000
"""Largest image read by default (width x height): 16 megapixels, for example 4900 x 3265.

Derived from a memory budget of 8 GiB (8.6 GB) for one image through any built-in plugin.
Peak memory grows about linearly with the pixel count; measured per pixel with
`benchmarks/memory_per_pixel.py` (`translator apply` on the CPU, float32, bundled models, 0.75
and 3 Mpx inputs) it was 461 bytes for cyclegan, 166 for colorize and 67 for pix2pix (stylegan
generates at its own size), over a fixed start of about 0.3 GB. So 16 Mpx x 461 B + 0.3 GB is
about 7.7 GB. Override with the environment variable TRANSLATOR_MAX_PIXELS or the `max_pixels`
argument."""
_MAX_BYTES_PER_PIXEL = 16  # 4 channels of 32-bit floats, uncompressed
_MAX_HEADER_BYTES = 64 * 1024**2  # metadata (EXIF, ICC profiles, thumbnails) beside the pixels

_ALPHA_SUFFIXES = frozenset({".png", ".webp", ".tif", ".tiff"})
_DEEP_SUFFIXES = frozenset({".png", ".tif", ".tiff"})

# EXIF orientation tag value -> (transpose first?, then rotations by 90 degrees counter-clockwise,
# then horizontal flip?); see the EXIF 2.3 specification, tag 0x0112.
_EXIF_ORIENTATION = {2: (False, 0, True), 3: (False, 2, False), 4: (False, 2, True), 5: (True, 0, False),
                     6: (False, 3, False), 7: (True, 2, False), 8: (False, 1, False)}


def pixel_limit() -> int:
    """The pixel limit from TRANSLATOR_MAX_PIXELS, else `DEFAULT_MAX_PIXELS`.

    Raises `ImageError` when the variable is set but is not a positive whole number (digits,
    optionally with `_` or `,` separators, or a form like 2e8)."""
    text = os.environ.get("TRANSLATOR_MAX_PIXELS", "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    cleaned = text.replace("_", "").replace(",", "")
    try:
        value = float(cleaned) if re.fullmatch(r"\d+(\.\d*)?([eE]\+?\d{1,2})?", cleaned) else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value == int(value) and 1 <= value <= 10**15):
        raise ImageError(f"TRANSLATOR_MAX_PIXELS={text[:40]!r} is not a number of pixels; set a whole number "
                         f"such as {DEFAULT_MAX_PIXELS}, or unset it for the default")
    return int(value)


def read_image(path: str | Path, *, max_pixels: int | None = None) -> Image:
    """Decode the image file at `path` (any format OpenCV or Pillow reads).

    Raises `ImageError` for a missing, empty, truncated or unrecognised file, or one larger than
    `max_pixels` (default: `pixel_limit()`).
    """
    path = Path(path)
    limit = max_pixels if max_pixels is not None else pixel_limit()
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES_PER_PIXEL * limit + _MAX_HEADER_BYTES and path.is_file():
            raise ImageError(f"{path}: {size:,} bytes is more than an image of at most {limit:,} pixels can "
                             "take (set TRANSLATOR_MAX_PIXELS to allow bigger images)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a folder, not an image") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    image = decode_image_bytes(data, str(path), max_pixels=limit)
    return Image(image.pixels, alpha=image.alpha, bit_depth=image.bit_depth, source=path,
                 grayscale=image.grayscale)


def decode_image_bytes(data: bytes, source: str = "image", *, max_pixels: int | None = None) -> Image:
    """Decode an encoded image held in memory (a dropped or pasted file's bytes).

    `source` names it in error messages. Same checks and conversions as `read_image`.
    """
    limit = max_pixels if max_pixels is not None else pixel_limit()
    if not data:
        raise ImageError(f"{source}: empty file")
    family = _signature(data)
    size, orientation, pillow_format = _probe(data)
    if family in _OWN_HEADERS:
        size = _OWN_HEADERS[family](data)
    elif family is not None and pillow_format not in _PILLOW_NAMES[family]:
        size = None  # Pillow read another header than the one OpenCV would decode
    if family == "jp2":
        size = _jpeg2000_size(data)
    if size is None:
        if family is None and pillow_format is None:
            raise ImageError(f"{source}: not a readable image (unrecognised format)")
        raise ImageError(f"{source}: its size cannot be read before decoding ({family or pillow_format} "
                         "header damaged or unsupported), so it is not decoded")
    if size[0] * size[1] > limit:
        raise ImageError(f"{source}: {size[0]}x{size[1]} pixels is more than the limit of "
                         f"{limit:,} (set TRANSLATOR_MAX_PIXELS to allow bigger images)")
    decoded = _decode_with_opencv(data, source) if family is not None else None
    if decoded is None:
        decoded = _decode_with_pillow(data, source, limit)
    if decoded.size == 0:
        raise ImageError(f"{source}: the image has no pixels")
    if decoded.shape[0] * decoded.shape[1] > limit or decoded.shape[:2] != (size[1], size[0]):
        raise ImageError(f"{source}: decoded as {decoded.shape[1]}x{decoded.shape[0]} pixels, but its header "
                         f"says {size[0]}x{size[1]}; the file is damaged")
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


def find_images(paths: Iterable[str | Path], *, recursive: bool = True,
                on_error: Callable[[Path, str], None] | None = None) -> list[Path]:
    """Image files among `paths`: files are taken as given (whatever their suffix), folders are
    scanned for `IMAGE_SUFFIXES` (recursively unless told not to), hidden files and folders
    skipped. Sorted per folder, duplicates dropped, missing paths ignored.

    Each real folder is scanned once, so symbolic links that lead back into a folder (loops)
    cannot make the scan grow without end. A folder that cannot be listed is reported to
    `on_error(folder, reason)` (default: a logged warning) and skipped; the scan goes on.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    visited: set[Path] = set()
    report = on_error or _log_scan_error
    for raw in paths:
        path = Path(raw)
        candidates: Iterable[Path]
        if path.is_dir():
            candidates = _scan(path, recursive, visited, report)
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


def suggest_output_path(source: str | Path, out_dir: str | Path, tag: str, fmt: str = "png", *,
                        taken: Container[str] = (), overwrite: bool = False) -> Path:
    """`out_dir/<stem>_<tag>.<fmt>`, or with `-2`, `-3`, ... appended to the tag when taken.

    A name is taken when a file of that name exists (unless `overwrite`) or when its casefolded
    form is in `taken` (the outputs already chosen by the same batch).
    """
    stem = Path(source).stem or "image"
    fmt = fmt.lstrip(".").lower()
    folder = Path(out_dir)
    name, number = f"{stem}_{tag}.{fmt}", 2
    while name.casefold() in taken or (not overwrite and (folder / name).exists()):
        name = f"{stem}_{tag}-{number}.{fmt}"
        number += 1
    return folder / name


# -- helpers -------------------------------------------------------------------------------------

# Formats OpenCV decodes, by their signature; each is pre-checked from the header it decodes.
_SIGNATURES: tuple[tuple[str, bytes, int], ...] = (
    ("png", b"\x89PNG\r\n\x1a\n", 0), ("jpeg", b"\xff\xd8\xff", 0), ("bmp", b"BM", 0),
    ("tiff", b"II*\x00", 0), ("tiff", b"MM\x00*", 0), ("tiff", b"II+\x00", 0), ("tiff", b"MM\x00+", 0),
    ("webp", b"WEBP", 8), ("gif", b"GIF87a", 0), ("gif", b"GIF89a", 0), ("sun", b"\x59\xa6\x6a\x95", 0),
    ("jp2", b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0), ("jp2", b"\xff\x4f\xff\x51", 0),
    ("hdr", b"#?RADIANCE", 0), ("hdr", b"#?RGBE", 0), ("pam", b"P7", 0), ("pfm", b"PF", 0), ("pfm", b"Pf", 0),
    ("avif", b"ftypavif", 4), ("avif", b"ftypavis", 4),
)
_PILLOW_NAMES = {"png": {"PNG"}, "jpeg": {"JPEG", "MPO"}, "bmp": {"BMP", "DIB"}, "tiff": {"TIFF"},
                 "webp": {"WEBP"}, "gif": {"GIF"}, "sun": {"SUN"}, "jp2": {"JPEG2000"}, "pnm": {"PPM"},
                 "avif": {"AVIF"}}
_PILLOW_EXIF = {"JPEG", "MPO", "WEBP", "TIFF", "AVIF"}
"""Formats whose EXIF Pillow reads from the header (for PNG, `getexif()` decodes the pixels)."""


def _signature(data: bytes) -> str | None:
    """The OpenCV-decodable format `data` starts like, or None (then OpenCV is never asked)."""
    for family, magic, offset in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return family
    if len(data) > 2 and data[:1] == b"P" and data[1:2] in b"123456" and data[2:3].isspace():
        return "pnm"
    return None


def _probe(data: bytes) -> tuple[tuple[int, int] | None, int, str | None]:
    """(width, height) from the header as Pillow reads it, without decoding the pixels; the EXIF
    orientation (1 when absent); Pillow's format name. Size and format None when Pillow does not
    know the format (OpenCV may)."""
    probe = _pillow_header(data)
    if probe is None:
        return None, 1, None
    with probe:
        return (int(probe.width), int(probe.height)), _orientation(probe, data, probe.format), probe.format


_PILLOW_HEADERS = ("PNG", "JPEG", "MPO", "BMP", "DIB", "TIFF", "WEBP", "GIF", "SUN", "JPEG2000", "PPM",
                   "AVIF", "TGA", "PCX", "SGI", "QOI", "DDS")
"""Pillow formats whose `open` reads only the header, which states the size that is decoded
(not ICO or ICNS, for example, whose `open` decodes an embedded image of any size)."""


def _pillow_header(data: bytes) -> Any:
    """Pillow's image object for `data` with only the header read, or None.

    As `PIL.Image.open` restricted to `_PILLOW_HEADERS`, and without its decompression-bomb
    check, which would refuse a large image before telling its width and height
    (`decode_image_bytes` checks them itself)."""
    from PIL import Image as PILImage

    PILImage.init()
    prefix = data[:16]
    for name in _PILLOW_HEADERS:
        if name not in PILImage.OPEN:
            continue
        factory, accept = PILImage.OPEN[name]
        try:
            if accept is not None:
                verdict = accept(prefix)
                if not verdict or isinstance(verdict, str):
                    continue
            return factory(io.BytesIO(data), "")
        except Exception:  # noqa: BLE001 - a plugin tripping over a hostile header: not its format
            continue
    return None


def _orientation(probe: Any, data: bytes, name: str | None) -> int:
    """The EXIF orientation tag, read without decoding any pixels; 1 when absent or damaged."""
    from PIL import Image as PILImage

    try:
        if name == "PNG":
            raw = _png_chunk(data, b"eXIf")
            if raw is None:
                return 1
            exif = PILImage.Exif()
            exif.load(raw)
        elif name in _PILLOW_EXIF:
            exif = probe.getexif()
        else:
            return 1
        value = int(exif.get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a damaged EXIF block must not make the image unreadable
        return 1
    return value


def _png_chunk(data: bytes, kind: bytes) -> bytes | None:
    """The first chunk of type `kind` in a PNG, found by walking chunk lengths (nothing decompressed)."""
    position = 8
    while position + 8 <= len(data):
        length, chunk = struct.unpack(">I4s", data[position:position + 8])
        if chunk == kind:
            return data[position + 8:position + 8 + length]
        if chunk == b"IEND":
            return None
        position += 12 + length
    return None


def _header_tokens(data: bytes, count: int, start: int, limit: int = 4096) -> list[bytes]:
    """The first `count` whitespace-separated tokens after `start` (a Netpbm-style header)."""
    head = data[start:start + limit]
    tokens: list[bytes] = []
    for line in head.splitlines():
        tokens.extend(line.split(b"#", 1)[0].split())
        if len(tokens) >= count:
            break
    return tokens[:count]


def _pfm_size(data: bytes) -> tuple[int, int] | None:
    """Portable float map: `PF`/`Pf`, width, height, scale."""
    tokens = _header_tokens(data, 2, 2)
    if len(tokens) == 2 and all(t.isdigit() for t in tokens):
        return int(tokens[0]), int(tokens[1])
    return None


def _pam_size(data: bytes) -> tuple[int, int] | None:
    """Portable arbitrary map: `P7`, then WIDTH/HEIGHT/DEPTH lines up to ENDHDR; depth 1-4 only."""
    fields: dict[bytes, bytes] = {}
    for line in data[2:4096].splitlines():
        words = line.split(b"#", 1)[0].split()
        if words[:1] == [b"ENDHDR"]:
            break
        if len(words) >= 2:
            fields[words[0]] = words[1]
    else:
        return None
    values = [fields.get(key, b"") for key in (b"WIDTH", b"HEIGHT", b"DEPTH")]
    if not all(value.isdigit() for value in values) or not 1 <= int(values[2]) <= 4:
        return None
    return int(values[0]), int(values[1])


def _hdr_size(data: bytes) -> tuple[int, int] | None:
    """Radiance RGBE: header lines, a blank line, then the resolution line (`-Y H +X W`)."""
    head = data[:65536]
    end = head.find(b"\n\n")
    if end < 0:
        return None
    line = head[end + 2:end + 2 + 64].split(b"\n", 1)[0]
    match = re.fullmatch(rb"\s*([+-])([XY]) (\d+) ([+-])([XY]) (\d+)\s*", line)
    if match is None or match.group(2) == match.group(5):
        return None
    first, second = int(match.group(3)), int(match.group(6))
    return (second, first) if match.group(2) == b"Y" else (first, second)


def _jpeg2000_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the first codestream's SIZ marker (what the decoder allocates)."""
    start = data.find(b"\xff\x4f\xff\x51")
    if start < 0 or start + 24 > len(data):
        return None
    xsiz, ysiz, xosiz, yosiz = struct.unpack(">IIII", data[start + 8:start + 24])
    if xsiz <= xosiz or ysiz <= yosiz:
        return None
    return xsiz - xosiz, ysiz - yosiz


_OWN_HEADERS = {"pfm": _pfm_size, "pam": _pam_size, "hdr": _hdr_size}
"""Formats OpenCV decodes and Pillow does not: their sizes are read here."""


def _decode_with_opencv(data: bytes, source: str) -> np.ndarray | None:
    """OpenCV's decoded array (gray, BGR or BGRA), or None when it cannot decode the data."""
    import cv2

    try:
        return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise ImageError(f"{source}: not a readable image ({_first_line(exc)})") from None


def _decode_with_pillow(data: bytes, source: str, limit: int) -> np.ndarray:
    """Formats OpenCV lacks (TGA, PCX, SGI, QOI, DDS), or could not decode: decoded by Pillow
    (only formats in `_PILLOW_HEADERS`) into an OpenCV-style BGR(A) array. The size was checked
    by `_probe` first; Pillow's own check is kept on, at the same limit."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    PILImage.init()
    PILImage.MAX_IMAGE_PIXELS = limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            known = [name for name in _PILLOW_HEADERS if name in PILImage.OPEN]
            with PILImage.open(io.BytesIO(data), formats=known) as image:
                image.load()
                if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                    array = np.asarray(image, dtype=np.uint32).clip(0, 65535).astype(np.uint16)
                    return array
                rgba = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                converted = np.asarray(image.convert("RGBA" if rgba else "RGB"))
    except UnidentifiedImageError:
        raise ImageError(f"{source}: not a readable image (unrecognised format)") from None
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for damaged files
        reason = _clean(_first_line(exc)) or type(exc).__name__
        raise ImageError(f"{source}: not a readable image ({reason})") from None
    import cv2

    return cv2.cvtColor(converted, cv2.COLOR_RGBA2BGRA if converted.shape[2] == 4 else cv2.COLOR_RGB2BGR)


def _clean(text: str) -> str:
    """An error text without Python object addresses (`<_io.BytesIO object at 0x...>`)."""
    return re.sub(r"\s*<[\w.]+ object at 0x[0-9a-fA-F]+>", "", text).strip()


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


def _scan(folder: Path, recursive: bool, visited: set[Path],
          report: Callable[[Path, str], None]) -> Iterator[Path]:
    """Depth first, files of a folder before its subfolders, each real folder at most once, at
    most `MAX_SCAN_DEPTH` levels down (a backstop for loops that real paths do not show, such
    as bind mounts)."""
    pending = [(folder, 0)]
    while pending:
        current, depth = pending.pop()
        real = _resolved(current)
        if real in visited:
            continue
        visited.add(real)
        if depth > MAX_SCAN_DEPTH:
            report(current, f"more than {MAX_SCAN_DEPTH} folders deep; skipped")
            continue
        try:
            entries = sorted(current.iterdir(), key=lambda p: p.name.lower())
        except OSError as exc:
            report(current, f"cannot list the folder ({exc.strerror or exc}); skipped")
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    subfolders.append(entry)
                elif entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES:
                    yield entry
            except OSError as exc:  # e.g. a name too long or a link loop to stat
                report(entry, f"cannot inspect ({exc.strerror or exc}); skipped")
        if recursive:
            pending.extend((sub, depth + 1) for sub in reversed(subfolders))


MAX_SCAN_DEPTH = 64
"""Deepest folder level a scan descends to."""


def _log_scan_error(path: Path, reason: str) -> None:
    import logging

    logging.getLogger(__name__).warning("%s: %s", path, reason)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _first_line(exc: BaseException) -> str:
    text = _clean(str(exc).strip())
    return text.splitlines()[-1].strip() if text else ""
