"""Reading an uploaded data set: a CSV with a label column, or an .npz with arrays X and y.

No Streamlit here (``tests/app/test_uploads.py`` tests it alone): ``parse_upload`` takes the
file's name and bytes and returns the arrays, or raises ValueError with one sentence that
says what is wrong. Nothing is ever unpickled: NumPy archives are read with
``allow_pickle=False``, and a zip's unpacked size is checked before anything is unpacked.
"""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np

UPLOAD_LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_unpacked_bytes": 200 * 1024 * 1024,
                 "min_rows": 10, "max_rows": 20_000, "max_features": 1024,
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
        raise ValueError(f"Class {names[counts.argmin()]!s} has a single example; every class "
                         "needs at least two.")
    if image_shape is None:
        side = int(round(k ** 0.5))
        if k >= 16 and side * side == k and X.min() >= 0 and X.max() <= 1:
            image_shape = (side, side)
    return {"X": X, "y": y.astype(np.int64),
            "class_names": tuple(_label_text(v) for v in names), "image_shape": image_shape,
            "filename": safe_name(filename)}


def safe_name(filename: str) -> str:
    """A file name that is safe to show on a page: printable, short, no Markdown tricks."""
    name = "".join(ch for ch in str(filename) if ch.isprintable() and ch not in "`\\$<>")
    return name[-60:] or "upload"


def _label_text(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return str(value)[:30]


def _read_npz(content: bytes):
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ValueError("The .npz file is not a valid NumPy archive.") from None
    if unpacked > UPLOAD_LIMITS["max_unpacked_bytes"]:
        raise ValueError(f"The .npz archive unpacks to {unpacked / 1e6:.0f} MB; at most "
                         f"{UPLOAD_LIMITS['max_unpacked_bytes'] / 1e6:.0f} MB are allowed.")
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as f:
            if "X" not in f.files or "y" not in f.files:
                raise ValueError(f"The .npz file must hold arrays named X and y; it holds "
                                 f"{', '.join(f.files[:10]) or 'nothing'}.")
            X, y = f["X"], f["y"]
    except ValueError as e:
        if "pickle" in str(e).lower() or "object arrays" in str(e).lower():
            raise ValueError("The .npz file holds Python objects; only plain numeric arrays "
                             "are accepted (they are never unpickled).") from None
        if str(e).startswith("The .npz"):
            raise
        raise ValueError(f"The .npz file could not be read: {str(e)[:200]}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"The .npz file could not be read: {str(e)[:200]}") from None
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric; it has dtype {X.dtype}.")
    if y.ndim != 1:
        raise ValueError(f"y must be one label per row (1-D); it has shape {y.shape}.")
    if y.dtype.kind not in "biuU":
        raise ValueError(f"y must hold integer or text labels; it has dtype {y.dtype}.")
    image_shape = None
    if X.ndim == 3:
        image_shape = tuple(int(s) for s in X.shape[1:])
        X = X.reshape(len(X), -1)
    elif X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows × features) or 3-D (images); it has shape {X.shape}.")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X):,} rows but y has {len(y):,} labels.")
    X = X.astype(np.float64)
    if image_shape is not None and X.size and X.max() > 1 and X.min() >= 0 and X.max() <= 255:
        X = X / 255.0
    return X, y, image_shape


def _read_csv(content: bytes):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("The CSV file is not UTF-8 text.") from None
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    except csv.Error as e:
        raise ValueError(f"The CSV file could not be parsed: {e}.") from None
    if len(rows) < 2:
        raise ValueError("The CSV file needs a header row and at least one data row.")
    header = [c.strip() for c in rows[0]]
    if len(set(len(r) for r in rows)) != 1:
        raise ValueError("The CSV rows do not all have the same number of columns.")
    if len(header) < 2:
        raise ValueError("The CSV file needs a label column and at least one feature column.")

    def is_number(cell):
        try:
            float(cell)
            return True
        except ValueError:
            return False

    if all(is_number(c) for c in header):
        header, body = [f"x{i}" for i in range(len(header) - 1)] + ["label"], rows
    else:
        body = rows[1:]
    lowered = [h.lower() for h in header]
    label_col = next((lowered.index(n) for n in LABEL_COLUMNS if n in lowered), len(header) - 1)
    features = [i for i in range(len(header)) if i != label_col]
    try:
        X = np.array([[float(r[i]) for i in features] for r in body], dtype=np.float64)
    except ValueError:
        bad = next(c for r in body for c in (r[i] for i in features) if not is_number(c))
        raise ValueError(f"Every feature column must be numeric; found {safe_name(bad)[:20]!r}. "
                         f"(The label column is {header[label_col]!r}: name it label, y, "
                         "target or class, or put it last.)") from None
    raw = [r[label_col].strip() for r in body]
    if any(not v for v in raw):
        raise ValueError(f"Some rows have no label in the label column {header[label_col]!r}.")
    if not all(is_number(v) for v in raw):
        return X, np.array([v[:30] for v in raw])
    numeric = np.array([float(v) for v in raw])
    if not np.all(np.isfinite(numeric)) or not np.all(numeric == np.round(numeric)):
        raise ValueError(f"The label column {header[label_col]!r} holds numbers that are not "
                         "whole: labels must be class numbers (0, 1, 2, …) or names.")
    return X, numeric.astype(np.int64)
