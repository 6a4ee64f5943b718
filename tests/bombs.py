"""Builders of hostile files that are tiny on disk and huge once decompressed.

Zeros deflate to almost nothing: one flushed deflate block of 16 MiB of zeros, repeated, is a
valid stream of any multiple of that size, built in well under a second.
"""
from __future__ import annotations

import io
import struct
import zlib

_CHUNK = 16 * 1024**2


def zeros_deflate(size: int) -> bytes:
    """A raw deflate stream (no header) of `size` zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = compressor.compress(bytes(_CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    return chunk * (size // _CHUNK) + tail.compress(bytes(size % _CHUNK)) + tail.flush()


def zeros_zlib(size: int) -> bytes:
    """A zlib stream (header, deflate, Adler-32) of `size` zero bytes."""
    adler = 1
    block = bytes(_CHUNK)
    for _ in range(size // _CHUNK):
        adler = zlib.adler32(block, adler)
    adler = zlib.adler32(bytes(size % _CHUNK), adler)
    return b"\x78\xda" + zeros_deflate(size) + struct.pack(">I", adler)


def zip_archive(records: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip archive from (name, stored bytes, method, crc, uncompressed size) records."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, method, crc, size in records:
        offset = out.tell()
        encoded = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size,
                              len(encoded), 0) + encoded + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data),
                                  size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start, directory = out.tell(), central.getvalue()
    out.write(directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(records), len(records),
                                      len(directory), start, 0))
    return out.getvalue()


def stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    """A `zip_archive` record holding `data` uncompressed, with its true CRC and size."""
    return name, data, 0, zlib.crc32(data), len(data)


def npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """The .npy (version 1.0) header of an array of `shape` and `dtype`."""
    text = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (63 - (len(text) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode()


def npz_bomb(shape: tuple[int, ...], name: str = "w") -> bytes:
    """An .npz whose one float32 array of `shape` (zeros) is deflated."""
    size = 4
    for n in shape:
        size *= n
    header = npy_header(shape)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH) + zeros_deflate(size)
    return zip_archive([(f"{name}.npy", data, 8, 0, len(header) + size)])  # CRC is checked only at the end


def png_bomb(width: int, height: int, *, exif_orientation: int | None = None) -> bytes:
    """A valid all-black RGB PNG of width x height whose pixels deflate to almost nothing."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = [chunk(b"IHDR", header), chunk(b"IDAT", zeros_zlib(height * (1 + 3 * width)))]
    if exif_orientation is not None:  # after IDAT, where only a full read would find it
        from PIL import Image as PILImage

        exif = PILImage.Exif()
        exif[0x0112] = exif_orientation
        chunks.append(chunk(b"eXIf", exif.tobytes()))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + chunk(b"IEND", b"")
