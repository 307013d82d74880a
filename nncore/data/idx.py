"""Read and write IDX files, the simple binary format MNIST is distributed in.

An IDX file is a header followed by raw bytes:

    bytes 0–1   0x00 0x00
    byte  2     element type: 0x08 = unsigned byte (the only type MNIST uses)
    byte  3     number of dimensions d
    then        d sizes, each a 4-byte big-endian unsigned integer
    then        the elements, row-major (last index fastest), one byte each

So the first four bytes read as one big-endian integer — the "magic number" — are
0x00000803 for a stack of images (n × rows × cols) and 0x00000801 for a vector of labels.
The files usually travel gzip-compressed (``.gz``); ``read_idx`` accepts either.

Everything is checked before it is trusted: a half-downloaded or damaged file is the
common failure, and "ValueError: cannot reshape array of size 9912406" says nothing useful.
The sizes in a header are checked against the file's own size before the array they
promise is allocated: a damaged header is a ValueError, not a request for 3 TiB.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from contextlib import contextmanager

import numpy as np

# magic number -> number of dimensions it promises
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
_NDIM_OF_MAGIC = {LABELS_MAGIC: 1, IMAGES_MAGIC: 3}

# Every gzip stream starts with these two bytes. We look at the content, not at the
# name: some browsers silently decompress a download but keep the ".gz" name.
_GZIP_SIGNATURE = b"\x1f\x8b"
_PIECE = 1 << 20   # bytes decompressed at a time
# Deflate codes a run of 258 repeated bytes in two bits at best: a byte of a gzip file
# inflates to at most 1,032 bytes (gzip's own headers only lower that).
_MAX_INFLATION = 1032


def read_idx(path, out=None) -> np.ndarray:
    """Read an IDX file (gzip-compressed or plain) into a uint8 array.

    Returns a 1-D array for a labels file and a 3-D array (n, rows, cols) for an images
    file. Raises ``ValueError`` naming the file and what is wrong when the file is
    truncated, corrupted, or not an IDX file of unsigned bytes; a missing file raises
    ``FileNotFoundError`` as usual.

    The elements are decompressed straight into the array (``out``, if given, which must
    have the file's shape — ``read_idx_folder`` reads the training and test images into
    one array that way), so reading never holds a second copy of the data.
    """
    with _open(path) as (f, shape):
        return _read(f, os.fspath(path), shape, out)


def idx_shape(path) -> tuple[int, ...]:
    """The shape an IDX file's header promises, read without reading the data (and
    checked against the file's size, as ``read_idx`` checks it)."""
    with _open(path) as (_, shape):
        return shape


@contextmanager
def _open(path):
    """Open an IDX file — gzip or plain, told by its first two bytes — and read its header:
    yields the stream at the first element and the shape. The header is checked against
    the file's size before anyone allocates what it promises: a plain file holds exactly
    its data, and gzip inflates a byte to at most ``_MAX_INFLATION`` bytes, so a header of a
    few bytes cannot ask for terabytes. A damaged gzip stream is a ValueError, whenever
    the reading meets it."""
    path = os.fspath(path)
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        gzipped = raw.read(2) == _GZIP_SIGNATURE
        raw.seek(0)
        if not gzipped:
            shape = _read_header(raw, path)
            _check_room(path, shape, size - raw.tell(), gzipped=False)
            yield raw, shape
            return
        try:
            with gzip.GzipFile(fileobj=raw) as f:
                shape = _read_header(f, path)
                _check_room(path, shape, size * _MAX_INFLATION, gzipped=True)
                yield f, shape
        except (OSError, EOFError, zlib.error) as e:
            # EOFError: the stream stops early (truncated download); OSError/zlib.error:
            # damaged bytes inside it.
            raise ValueError(f"{path}: the gzip data is damaged or truncated ({e}).") from None


def _read_header(f, path: str) -> tuple[int, ...]:
    head = f.read(4)
    if len(head) < 4:
        raise ValueError(f"{path}: only {len(head)} bytes, too short to hold an IDX header.")
    (magic,) = struct.unpack(">I", head)
    if magic not in _NDIM_OF_MAGIC:
        raise ValueError(
            f"{path}: magic number 0x{magic:08X} is not an IDX file of unsigned bytes; "
            f"expected 0x{IMAGES_MAGIC:08X} (images) or 0x{LABELS_MAGIC:08X} (labels)."
        )
    ndim = _NDIM_OF_MAGIC[magic]
    sizes = f.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise ValueError(
            f"{path}: the header promises {ndim} dimension sizes but the file ends after "
            f"{4 + len(sizes)} bytes (truncated)."
        )
    return struct.unpack(f">{ndim}I", sizes)


def _check_room(path: str, shape, room: int, gzipped: bool) -> None:
    """The data the header promises (one byte per element) must fit the ``room`` the file
    has for it: exactly what follows the header in a plain file, at most its size ×
    ``_MAX_INFLATION`` once inflated in a gzip file."""
    expected = math.prod(shape)
    if expected <= room:
        return
    if not gzipped:
        raise ValueError(f"{path}: truncated — the header says {_dims(shape)} = {expected:,} "
                         f"bytes of data, but only {room:,} follow.")
    raise ValueError(f"{path}: the header says {_dims(shape)} = {expected:,} bytes of data, "
                     f"more than its {room // _MAX_INFLATION:,} bytes of gzip can inflate to "
                     f"(at most {room:,}): the header is damaged.")


def _dims(shape) -> str:
    return " × ".join(map(str, shape))


def _read(f, path: str, shape, out) -> np.ndarray:
    if out is None:
        out = np.empty(shape, dtype=np.uint8)
    elif out.shape != shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"{path}: holds a uint8 array of shape {shape}, which does not fit "
                         f"the {out.dtype} array of shape {out.shape} it should be read into.")
    expected, found = out.size, 0
    data = memoryview(out.reshape(-1))
    while found < expected:            # in pieces: gzip decompresses each into a temporary
        n = f.readinto(data[found:found + _PIECE])
        if not n:
            break
        found += n
    if found < expected:
        raise ValueError(
            f"{path}: truncated — the header says {_dims(shape)} = "
            f"{expected:,} bytes of data, but only {found:,} follow."
        )
    extra = 0
    while chunk := f.read(1 << 16):
        extra += len(chunk)
    if extra:
        raise ValueError(
            f"{path}: the header says {_dims(shape)} = {expected:,} bytes "
            f"of data, but {expected + extra:,} follow ({extra:,} too many)."
        )
    return out


def write_idx(path, array) -> None:
    """Write a uint8 array as an IDX file: 1-D as labels, 3-D as images.

    The file is gzip-compressed when ``path`` ends in ``.gz``. Meant for tests and for
    making small fixtures; the real MNIST files are only ever read.
    """
    path = os.fspath(path)
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"write_idx expects a uint8 array; got dtype {array.dtype}.")
    magic = {1: LABELS_MAGIC, 3: IMAGES_MAGIC}.get(array.ndim)
    if magic is None:
        raise ValueError(
            f"write_idx expects a 1-D labels array or a 3-D (n, rows, cols) images array; "
            f"got {array.ndim}-D with shape {array.shape}."
        )
    data = struct.pack(f">I{array.ndim}I", magic, *array.shape) + np.ascontiguousarray(array).tobytes()
    if path.endswith(".gz"):
        data = gzip.compress(data, mtime=0)  # mtime=0: the same array gives the same bytes
    with open(path, "wb") as f:
        f.write(data)
