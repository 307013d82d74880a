"""Reading an uploaded data set: a CSV with a label column, or an .npz with arrays X and y.

No Streamlit here (``tests/app/test_uploads.py`` tests it alone): ``parse_upload`` takes the
file's name and bytes and returns the arrays, or raises ValueError with one sentence that
says what is wrong. Every bound is checked before the work it bounds: an archive's members
are sized from their ``.npy`` headers before any is inflated (``nncore.archive``, which
refuses a member holding Python objects from its header: nothing is ever unpickled), and a
CSV is read row by row, up to the limits. Values are checked in float32, the precision the
network trains in (1e39 is finite in float64, infinite in float32).
"""

from __future__ import annotations

import csv
import io
import itertools
import math

import numpy as np

from nncore.archive import ArchiveError, NpzLimits, open_npz
from nncore.data import points as drawn
from nncore.runs.schema import LIMITS

UPLOAD_LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_unpacked_bytes": 200 * 1024 * 1024,
                 "min_rows": 10, "max_rows": 20_000, "max_features": LIMITS["max_features"],
                 "max_classes": 50}
LABEL_COLUMNS = ("label", "labels", "y", "target", "class")


def parse_upload(filename: str, content: bytes) -> dict:
    """Read an uploaded data set — a CSV with a label column, or an .npz with arrays X and
    y — into ``{"X", "y", "class_names", "image_shape", "filename"}``. Never unpickles;
    raises ValueError with a sentence saying what is wrong."""
    lim = UPLOAD_LIMITS
    if len(content) > lim["max_bytes"]:
        raise ValueError(f"The file is {len(content) / 1e6:.1f} MB; uploads are limited to "
                         f"{lim['max_bytes'] / 1e6:.0f} MB.")
    if not content:
        raise ValueError("The file is empty.")
    lower = filename.lower()
    if lower.endswith(".npz"):
        X, labels, image_shape = _read_npz(content)
    elif lower.endswith(".csv"):
        X, labels = _read_csv(content)
        image_shape = None
    else:
        raise ValueError("Upload a .csv file (a label column plus numeric feature columns) or "
                         "an .npz file holding arrays X and y.")
    n, k = X.shape
    if not lim["min_rows"] <= n <= lim["max_rows"]:
        raise ValueError(f"The data has {n:,} rows; between {lim['min_rows']} and "
                         f"{lim['max_rows']:,} are allowed.")
    if not 1 <= k <= lim["max_features"]:
        raise ValueError(f"The data has {k:,} features per row; at most {lim['max_features']:,} "
                         "are allowed.")
    # Checked in float32, the dtype training uses: 1e39 is finite in float64, inf in float32.
    with np.errstate(over="ignore"):      # an overflow is what the check below reports
        X = X.astype(np.float32)
    if not np.all(np.isfinite(X)):
        raise ValueError("Some feature values are missing, infinite, not numbers, or beyond "
                         "float32's range (±3.4e38), the precision the network trains in.")
    names, y = np.unique(labels, return_inverse=True)
    if not 2 <= len(names) <= lim["max_classes"]:
        raise ValueError(f"The labels hold {len(names)} different classes; between 2 and "
                         f"{lim['max_classes']} are needed.")
    counts = np.bincount(y)
    if counts.min() < 2:
        raise ValueError(f"Class {_label_text(names[counts.argmin()])} has a single example; every class "
                         "needs at least two.")
    if image_shape is None:
        side = int(round(k ** 0.5))
        if k >= 16 and side * side == k and X.min() >= 0 and X.max() <= 1:
            image_shape = (side, side)
    return {"X": X, "y": y.astype(np.int64),
            "class_names": tuple(_label_text(v) for v in names), "image_shape": image_shape,
            "filename": safe_name(filename)}


MARKDOWN = set("\\*_[]~|")   # emphasis, links, tables, strikethrough


POINTS_CSV_BYTES = 256 * 1024      # a CSV of 1,000 points is about 20 kB


def parse_points_csv(filename: str, content: bytes) -> str:
    """Your own points from a CSV file (``x1,x2,label``, as the Dataset page downloads them),
    as the text a spec carries (``nncore.data.points``). Refused with a sentence naming the
    first wrong row: a wrong column, a value that is not a number, a point off the plane, a
    class out of range, more points than a drawn set holds; the file is read row by row, so
    reading stops there."""
    if not filename.lower().endswith(".csv"):
        raise ValueError("Upload a .csv file with the columns x1, x2 and label.")
    if len(content) > POINTS_CSV_BYTES:
        raise ValueError(f"The file is {len(content) / 1024:,.0f} kB; a CSV of points is at "
                         f"most {POINTS_CSV_BYTES // 1024} kB ({drawn.MAX_POINTS:,} points).")
    lines = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    try:
        X, y = drawn.from_csv(lines)
    except UnicodeDecodeError:
        raise ValueError("The CSV file is not UTF-8 text.") from None
    if not len(y):
        raise ValueError("The CSV file has a header but no points.")
    return drawn.encode(X, y)


def safe_name(filename: str) -> str:
    """A file name that is safe to show on a page: printable, short, no Markdown tricks
    (its punctuation is escaped, so "[x](http://…)" shows as itself, not as a link)."""
    name = "".join(ch for ch in str(filename) if ch.isprintable() and ch not in "`\\$<>")
    name = name[-60:] or "upload"
    return "".join("\\" + ch if ch in MARKDOWN else ch for ch in name)


def _label_text(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return str(value)[:30]


_NPZ_LIMITS = NpzLimits(max_file_bytes=UPLOAD_LIMITS["max_bytes"], max_members=16,
                        max_unpacked_bytes=UPLOAD_LIMITS["max_unpacked_bytes"])
_ARCHIVE_SENTENCES = {
    "objects": "The .npz file holds Python objects; only plain numeric arrays are accepted "
               "(they are never unpickled).",
    "too_large": "The .npz archive {detail}.",
    "too_many": "The .npz archive {detail}.",
}


def _read_npz(content: bytes):
    """X and y from an .npz: their shapes and dtypes are checked from the .npy headers
    (``nncore.archive``) before either is inflated."""
    lim = UPLOAD_LIMITS
    try:
        with open_npz(content, _NPZ_LIMITS) as archive:
            if "X" not in archive or "y" not in archive:
                held = ", ".join(sorted(archive.headers)[:10])
                raise ValueError(f"The .npz file must hold arrays named X and y; it holds "
                                 f"{safe_name(held) if held else 'nothing'}.")
            X_h, y_h = archive.headers["X"], archive.headers["y"]
            if X_h.dtype.kind not in "biuf" or X_h.dtype.fields is not None:
                raise ValueError(f"X must be numeric; it has dtype {X_h.dtype}.")
            if len(X_h.shape) not in (2, 3):
                raise ValueError(f"X must be 2-D (rows × features) or 3-D (images); it has "
                                 f"shape {X_h.shape}.")
            if len(y_h.shape) != 1:
                raise ValueError(f"y must be one label per row (1-D); it has shape {y_h.shape}.")
            if y_h.dtype.kind not in "biuU":
                raise ValueError(f"y must hold integer or text labels; it has dtype {y_h.dtype}.")
            rows, features = X_h.shape[0], math.prod(X_h.shape[1:])
            if rows != y_h.shape[0]:
                raise ValueError(f"X has {rows:,} rows but y has {y_h.shape[0]:,} labels.")
            if not lim["min_rows"] <= rows <= lim["max_rows"]:
                raise ValueError(f"The data has {rows:,} rows; between {lim['min_rows']} and "
                                 f"{lim['max_rows']:,} are allowed.")
            if not 1 <= features <= lim["max_features"]:
                raise ValueError(f"The data has {features:,} features per row; at most "
                                 f"{lim['max_features']:,} are allowed.")
            X, y = archive.read("X"), archive.read("y")
    except ArchiveError as e:
        sentence = _ARCHIVE_SENTENCES.get(e.reason)
        if sentence is None:
            raise ValueError("The .npz file is not a valid NumPy archive, or it is damaged "
                             f"({str(e)[:200]}).") from None
        raise ValueError(sentence.format(detail=str(e).removeprefix("the archive "))) from None
    image_shape = None
    if X.ndim == 3:
        image_shape = tuple(int(s) for s in X.shape[1:])
        X = X.reshape(len(X), -1)
    X = X.astype(np.float64)
    if image_shape is not None and X.size and X.max() > 1 and X.min() >= 0 and X.max() <= 255:
        X = X / 255.0
    return X, y, image_shape


def _is_number(cell) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _read_csv(content: bytes):
    """Features and labels from a CSV, read row by row: the columns are counted on the first
    row and the rows as they come, so a file over the limits is not read further."""
    # Decoded as it is read, a few kilobytes at a time: the whole text as one str (and
    # StringIO's copy of it, four bytes a character) would cost five times the file.
    lines = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    try:
        return _csv_rows(csv.reader(lines))
    except UnicodeDecodeError:
        raise ValueError("The CSV file is not UTF-8 text.") from None
    except csv.Error as e:
        raise ValueError(f"The CSV file could not be parsed: {e}.") from None


def _csv_rows(reader):
    lim = UPLOAD_LIMITS
    rows = (row for row in reader if any(c.strip() for c in row))
    first = next(rows, None)
    if first is None:
        raise ValueError("The CSV file needs a header row and at least one data row.")
    header = [c.strip() for c in first]
    if len(header) < 2:
        raise ValueError("The CSV file needs a label column and at least one feature column.")
    if len(header) > lim["max_features"] + 1:
        raise ValueError(f"The data has {len(header) - 1:,} features per row; at most "
                         f"{lim['max_features']:,} are allowed.")
    headerless = all(_is_number(c) for c in header)
    if headerless:
        header = [f"x{i}" for i in range(len(header) - 1)] + ["label"]
    lowered = [h.lower() for h in header]
    label_col = next((lowered.index(n) for n in LABEL_COLUMNS if n in lowered), len(header) - 1)
    features = [i for i in range(len(header)) if i != label_col]
    X, raw = [], []
    for row in itertools.chain([first] if headerless else [], rows):
        if len(row) != len(header):
            raise ValueError("The CSV rows do not all have the same number of columns.")
        if len(X) == lim["max_rows"]:
            raise ValueError(f"The data has more than {lim['max_rows']:,} rows; between "
                             f"{lim['min_rows']} and {lim['max_rows']:,} are allowed.")
        try:
            X.append(np.array([float(row[i]) for i in features]))
        except ValueError:
            bad = next(row[i] for i in features if not _is_number(row[i]))
            raise ValueError(f"Every feature column must be numeric; found "
                             f"{safe_name(bad)[:20]!r}. (The label column is "
                             f"{header[label_col]!r}: name it label, y, target or class, or "
                             "put it last.)") from None
        raw.append(row[label_col].strip())
    if not X:
        raise ValueError("The CSV file needs a header row and at least one data row.")
    X = np.stack(X)                                              # (rows, features) float64
    if any(not v for v in raw):
        raise ValueError(f"Some rows have no label in the label column {header[label_col]!r}.")
    if not all(_is_number(v) for v in raw):
        return X, np.array([v[:30] for v in raw])
    numeric = np.array([float(v) for v in raw])
    if (not np.all(np.isfinite(numeric)) or not np.all(numeric == np.round(numeric))
            or np.abs(numeric).max() >= 2 ** 31):
        raise ValueError(f"The label column {header[label_col]!r} holds numbers that are not "
                         "whole (or are beyond ±2³¹): labels must be class numbers (0, 1, 2, "
                         "…) or names.")
    return X, numeric.astype(np.int64)
