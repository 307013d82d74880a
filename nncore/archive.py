"""Reading a NumPy ``.npz`` archive that nobody vouches for: every size is known before it
is spent.

An ``.npz`` is a zip of ``.npy`` files, and both formats say how large their parts are
before the parts themselves:

    the zip's end record     how many members the archive has (the last 22 bytes; a
                             zip64 archive, which no archive within limits needs, is refused)
    the zip's directory      each member's name and unpacked size (``ZipInfo.file_size``)
    each ``.npy`` header     the array's dtype and shape, a few dozen bytes at the start of
                             the member: dtype.itemsize × prod(shape) is its size in bytes

``open_npz(source, limits)`` reads only those, checks them against ``limits`` and returns an
``Archive``: ``archive.headers`` says what every member holds (``NpyHeader``: shape, dtype),
so a caller can refuse a wrong shape before any data is inflated, and ``archive.read(name)``
then inflates one member, exactly the bytes its header promised. A zip bomb, a member
whose header promises 10¹⁸ elements, a member that is not an ``.npy`` at all: each is an
``ArchiveError`` whose ``reason`` says which, before any memory is spent on it.

Nothing is ever unpickled. A member whose dtype holds Python objects (the only way an
``.npy`` can carry a pickle) is refused from its header, before its data is read at all.
"""

from __future__ import annotations

import io
import math
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")        # a member first, or an empty archive
_END_RECORD = b"PK\x05\x06"                          # the zip's end-of-directory record
_END_RECORD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"                       # just before it, in a zip64 archive
_ZIP64_LOCATOR_SIZE = 20
_MAX_COMMENT = 0xFFFF                                # the end record may trail a comment
_MAX_NPY_HEADER = 10_000                             # NumPy's own default bound
# What zipfile and zlib raise for damaged bytes: a bad checksum or header, a cut stream, a
# version or flag field that no longer makes sense, a name that is not valid UTF-8.
_CORRUPTED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, struct.error,
              NotImplementedError, RuntimeError, UnicodeDecodeError)


class ArchiveError(ValueError):
    """The archive cannot be read within its limits. ``reason`` says why, for the caller to
    word: "empty", "npy" (a single ``.npy``, not an archive), "not_zip", "corrupted",
    "too_large" (file or unpacked size), "too_many" (members), "not_npy" (a member that is
    not a NumPy array), "objects" (a member holding Python objects, i.e. pickles);
    ``member`` names the member concerned, if any."""

    def __init__(self, reason: str, message: str, member: str | None = None):
        super().__init__(message)
        self.reason, self.member = reason, member


@dataclass(frozen=True)
class NpzLimits:
    """The most an archive may ask for: file size, members, unpacked bytes in all."""

    max_file_bytes: int
    max_members: int
    max_unpacked_bytes: int


@dataclass(frozen=True)
class NpyHeader:
    """What one ``.npy`` member holds, read from its header: the data is not read yet."""

    shape: tuple
    dtype: np.dtype
    fortran_order: bool
    offset: int                     # where the data starts inside the member

    @property
    def nbytes(self) -> int:
        return self.dtype.itemsize * math.prod(self.shape)


class Archive:
    """An opened ``.npz`` whose members' headers are read and checked (``open_npz``).
    Members are named as ``np.load`` names them: "model.json" for "model.json.npy"."""

    def __init__(self, zf: zipfile.ZipFile, infos: dict, headers: dict, owned):
        self._zip, self._infos, self._owned = zf, infos, owned
        self.headers: dict[str, NpyHeader] = headers

    def __contains__(self, name) -> bool:
        return name in self.headers

    def read(self, name: str) -> np.ndarray:
        """The array ``name`` holds (read-only), inflating exactly the bytes its header
        promised; a member whose data is cut short or fails its checksum is "corrupted"."""
        header = self.headers[name]
        try:
            with self._zip.open(self._infos[name]) as fp:
                fp.read(header.offset)                     # the header, read before
                # The data ends where the member does (``_npy_header`` checked its declared
                # size), and zipfile checks the CRC as the reading reaches that end.
                data = fp.read(header.nbytes)
        except _CORRUPTED as exc:
            raise ArchiveError("corrupted", f"the member {name} is damaged ({exc})",
                               name) from None
        if len(data) != header.nbytes:
            raise ArchiveError("corrupted", f"the member {name} does not hold the "
                               f"{header.nbytes:,} bytes its header promises", name)
        array = np.frombuffer(data, dtype=header.dtype, count=math.prod(header.shape))
        return array.reshape(header.shape, order="F" if header.fortran_order else "C")

    def close(self) -> None:
        self._zip.close()
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_npz(source, limits: NpzLimits) -> Archive:
    """Open ``source`` (a path, bytes or a binary file object) as an ``.npz`` within
    ``limits``: the end record, the directory and every member's ``.npy`` header are read
    and checked; no member's data is. Raises ``ArchiveError``; a path that does not exist
    raises ``FileNotFoundError``."""
    owned = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        fp = io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        fp = owned = open(source, "rb")
    else:
        fp = source
    try:
        zf, infos = _directory(fp, limits)
        headers = {name: _npy_header(zf, info, name) for name, info in infos.items()}
    except BaseException:
        if owned is not None:
            owned.close()
        raise
    return Archive(zf, infos, headers, owned)


# ---------------------------------------------------------------------- the zip's directory
def _directory(fp, limits: NpzLimits) -> tuple[zipfile.ZipFile, dict]:
    """The members by name, after the sizes the end record and the directory declare are
    checked: nothing is inflated here."""
    fp.seek(0, io.SEEK_END)
    size = fp.tell()
    if size == 0:
        raise ArchiveError("empty", "the file is empty")
    if size > limits.max_file_bytes:
        raise ArchiveError("too_large", f"the file is {size / 1e6:.1f} MB, above the limit "
                           f"of {limits.max_file_bytes / 1e6:.1f} MB")
    fp.seek(0)
    start = fp.read(len(_NPY_MAGIC))
    if start.startswith(_NPY_MAGIC):
        raise ArchiveError("npy", "the file is a single NumPy array (.npy), not an archive")
    if not start.startswith(_ZIP_MAGICS):
        raise ArchiveError("not_zip", "the file is not a zip archive")

    # The end record says how many members the directory lists, before zipfile reads it.
    tail = min(size, _ZIP64_LOCATOR_SIZE + _END_RECORD_SIZE + _MAX_COMMENT)
    fp.seek(size - tail)
    end = fp.read(tail)
    at = end.rfind(_END_RECORD)
    if at < 0 or len(end) - at < _END_RECORD_SIZE:
        raise ArchiveError("corrupted", "the zip archive's directory is missing (the file "
                           "may be cut short)")
    # A zip64 locator before it points to a second end record, whose counts zipfile reads
    # instead of these: only an archive of over 65,535 members or 4 GB needs one, so none
    # within the limits does (NumPy's per-member zip64 fields are not this record).
    locator = end[at - _ZIP64_LOCATOR_SIZE:at] if at >= _ZIP64_LOCATOR_SIZE else b""
    if locator.startswith(_ZIP64_LOCATOR):
        raise ArchiveError("too_large", "the archive has zip64 end records, which only "
                           "archives of over 65,535 members or 4 GB need")
    members, directory_size = struct.unpack("<HI", end[at + 10:at + 16])
    if members > limits.max_members or directory_size > 1024 * limits.max_members:
        raise ArchiveError("too_many", f"the archive lists {members:,} members; at most "
                           f"{limits.max_members} are allowed")
    fp.seek(0)
    try:
        zf = zipfile.ZipFile(fp)
    except _CORRUPTED as exc:
        raise ArchiveError("corrupted", f"the zip archive cannot be read ({exc})") from None
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise ArchiveError("too_many", f"the archive holds {len(infos):,} members; at most "
                           f"{limits.max_members} are allowed")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > limits.max_unpacked_bytes:
        raise ArchiveError("too_large", f"the archive unpacks to {unpacked / 1e6:,.1f} MB, "
                           f"above the limit of {limits.max_unpacked_bytes / 1e6:.1f} MB")
    by_name = {}
    for info in infos:
        name = info.filename[:-len(".npy")] if info.filename.endswith(".npy") else info.filename
        if not info.filename.endswith(".npy") or info.is_dir():
            raise ArchiveError("not_npy", f"its member {name!r} is not a NumPy array", name)
        if name in by_name:
            raise ArchiveError("corrupted", f"the member {name!r} appears twice", name)
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                              zipfile.ZIP_DEFLATED):
            raise ArchiveError("corrupted", f"the member {name!r} is encrypted or packed in a "
                               "way NumPy archives never are", name)
        by_name[name] = info
    return zf, by_name


# ---------------------------------------------------------------------- one member's header
def _npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> NpyHeader:
    """The dtype and shape at the start of a member, and a check that the member's size is
    exactly the header plus the data they promise (so reading it later is bounded)."""
    try:
        with zf.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                    fp, max_header_size=_MAX_NPY_HEADER)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                    fp, max_header_size=_MAX_NPY_HEADER)
            else:
                raise ValueError(f"format version {version}")
            offset = fp.tell()
    except _CORRUPTED as exc:
        raise ArchiveError("corrupted", f"the member {name!r} is damaged ({exc})", name) from None
    except (ValueError, SyntaxError, TypeError):
        # read_magic and the header parser refuse anything that is not an .npy header
        raise ArchiveError("not_npy", f"its member {name!r} is not a NumPy array", name) from None
    if dtype.hasobject:
        raise ArchiveError("objects", f"the member {name!r} holds Python objects (pickles)", name)
    if any(d < 0 for d in shape):
        raise ArchiveError("not_npy", f"its member {name!r} has a negative size", name)
    if dtype.itemsize == 0:        # "<U0", "|V0": values of no bytes, which NumPy cannot read
        raise ArchiveError("not_npy", f"its member {name!r} holds values of zero bytes "
                           f"({dtype.str})", name)
    header = NpyHeader(tuple(int(d) for d in shape), dtype, bool(fortran), offset)
    if info.file_size != offset + header.nbytes:
        raise ArchiveError("corrupted", f"the member {name!r} is {info.file_size:,} bytes, but "
                           f"its header promises {offset + header.nbytes:,}", name)
    return header


__all__ = ["ArchiveError", "Archive", "NpyHeader", "NpzLimits", "open_npz"]
