"""Your own 2-D points: a small data set placed by hand, carried as one line of text.

A drawn set is a list of points (x₁, x₂) in the plane [−3, 3]², each of a class 0 … 3, in
the order they were placed. Coordinates are kept to 0.01 — finer than a click can place
them — so that each point is one whole number of 24 bits,

    code = class · 2²⁰ + i₁ · 2¹⁰ + i₂,     iₖ = 100 · (xₖ + 3), a whole number 0 … 600,

written as four digits of base 64 (the URL-safe alphabet A–Z a–z 0–9 - _, A = 0): 200
points are 800 characters. That text is the ``points`` parameter of the data set
``points`` (``load_dataset("points", points=text)``), so a run spec carries the points
themselves: the spec, a saved model, a share link and an exported script all rebuild the
same data set from it, split as every data set is split.

Every bound is here, once: the plane, the step, how many points and classes.
"""

from __future__ import annotations

import csv
import math
import re

import numpy as np

NAME = "points"          # the data set's name in the registry, a spec and a link
PLANE = 3.0             # points lie in [−PLANE, PLANE]²
STEPS = 100             # … at multiples of 1 / STEPS
TOP = int(2 * PLANE * STEPS)        # the largest index iₖ: 600
MAX_POINTS = 1000
MAX_CLASSES = 4
MIN_PER_CLASS = 2       # so that a class can be split between training and test
DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
CHARS = 4               # base-64 digits per point
CSV_HEADER = ("x1", "x2", "label")

_TEXT = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)
_VALUE = np.full(256, -1, dtype=np.int64)                  # byte → digit value (−1: none)
_VALUE[np.frombuffer(DIGITS.encode("ascii"), np.uint8)] = np.arange(64)
_PLACES = np.array([18, 12, 6, 0])      # the four digits' places: 64³, 64², 64, 1 as shifts


class PointsError(ValueError):
    """Drawn points that cannot be read or trained on; the message is a sentence for people."""


# ---------------------------------------------------------------------- one point, one number
def to_index(x) -> np.ndarray:
    """Coordinates → their whole-number indices iₖ = 100 · (xₖ + 3) (rounded)."""
    return np.rint((np.asarray(x, dtype=np.float64) + PLANE) * STEPS).astype(np.int64)


def to_coordinate(i) -> np.ndarray:
    """Indices → coordinates: (i − 300) / 100, the nearest float64 to the decimal (0.52)."""
    return (np.asarray(i, dtype=np.int64) - TOP // 2) / STEPS


def code_of(label, i1, i2):
    return (np.asarray(label, np.int64) << 20) | (np.asarray(i1, np.int64) << 10) | np.asarray(i2, np.int64)


def parts_of(code):
    """(class, i₁, i₂) of a point's code."""
    code = np.asarray(code, np.int64)
    return code >> 20, (code >> 10) & 1023, code & 1023


# ---------------------------------------------------------------------- a set ⇄ its text
def encode(X, y) -> str:
    """The text of points ``X`` (n, 2) with classes ``y`` (n,): four digits per point, in
    order. Coordinates are rounded to the step; a point off the plane, a class out of range
    or more than ``MAX_POINTS`` points is a PointsError."""
    X, y = np.asarray(X, dtype=np.float64).reshape(-1, 2), np.asarray(y).reshape(-1)
    if len(X) != len(y):
        raise PointsError(f"{len(X)} points but {len(y)} classes.")
    check_count(len(y))
    finite = np.isfinite(X).all(axis=1)
    i = to_index(np.where(finite[:, None], X, 0.0))                  # (n, 2)
    off = np.flatnonzero(~finite | (i < 0).any(axis=1) | (i > TOP).any(axis=1))
    if len(off):
        raise PointsError(f"Point {off[0] + 1} is not on the plane (−{PLANE:g} … {PLANE:g} in "
                          "both coordinates).")
    labels = y.astype(np.int64)
    bad = np.flatnonzero((labels != y) | (labels < 0) | (labels >= MAX_CLASSES))
    if len(bad):
        raise PointsError(f"Point {bad[0] + 1} has class {y[bad[0]].item()!r}; classes are 0 … "
                          f"{MAX_CLASSES - 1}.")
    codes = code_of(labels, i[:, 0], i[:, 1])                        # (n,)
    digits = (codes[:, None] >> _PLACES) & 63                        # (n, 4)
    return bytes(np.frombuffer(DIGITS.encode("ascii"), np.uint8)[digits].ravel()).decode("ascii")


def decode(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a set's text: X (n, 2) float64 on the 0.01 grid, y (n,) int64. Anything
    else than ``encode``'s own output is a PointsError that names the first bad point."""
    if not isinstance(text, str) or not _TEXT.fullmatch(text):
        raise PointsError("Drawn points are written in the letters A–Z, a–z, the digits, "
                          "'-' and '_' only.")
    if len(text) % CHARS:
        raise PointsError(f"Drawn points take {CHARS} characters each; this text has "
                          f"{len(text)}, which is not a whole number of points.")
    check_count(len(text) // CHARS)
    X, y, kept = _read(text.encode("ascii"))
    if not kept.all():
        raise PointsError(f"Drawn point {np.argmin(kept) + 1} is not a point of the plane "
                          f"with a class 0 … {MAX_CLASSES - 1}.")
    return X, y


def decode_lenient(text: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(X, y, dropped) of text from outside, such as a link's: the points ``decode`` would
    read, in order, skipping each group of four characters that is not one — a character
    outside the alphabet, a point off the plane or of no class, a short group at the end —
    and how many were skipped. Never raises. At most ``MAX_POINTS`` are read; the groups
    after them count as skipped."""
    text = str(text)
    groups = -(-len(text) // CHARS)                   # a short last group is one too
    # One byte per character: "?" stands for any that is not ASCII, and is no digit.
    X, y, kept = _read(text[:MAX_POINTS * CHARS].encode("ascii", "replace"))
    return X[kept], y[kept], groups - int(np.count_nonzero(kept))


def _read(raw: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every whole group of four bytes of ``raw`` read as a point: (X (n, 2), y (n,),
    kept (n,)), where ``kept`` says which groups are points of the plane with a class —
    four digits of the alphabet, a class below ``MAX_CLASSES``, indices up to ``TOP``.
    (X and y of the others mean nothing.)"""
    n = len(raw) // CHARS
    digits = _VALUE[np.frombuffer(raw, np.uint8, count=n * CHARS)].reshape(n, CHARS)  # (n, 4)
    labels, i1, i2 = parts_of((digits << _PLACES).sum(axis=1))
    kept = (digits >= 0).all(axis=1) & (labels < MAX_CLASSES) & (i1 <= TOP) & (i2 <= TOP)
    return np.stack([to_coordinate(i1), to_coordinate(i2)], axis=1), labels, kept


def check_count(n: int) -> None:
    if n > MAX_POINTS:
        raise PointsError(f"{n:,} points are more than a drawn set holds ({MAX_POINTS:,}).")


def count(text: str | None) -> int:
    """How many points a set's text holds (without reading them)."""
    return len(text or "") // CHARS


def say(text: str | None) -> str:
    """"37 points in 2 classes", as a summary line says a drawn set."""
    n = count(text)
    try:
        k = len(np.unique(decode(text or "")[1]))
    except PointsError:
        return f"{n:,} points"
    return f"{n:,} point{'s' if n != 1 else ''}" + (f" in {k} classes" if k > 1 else "")


# ---------------------------------------------------------------------- ready to train?
def check_trainable(y) -> None:
    """A PointsError saying what is missing, unless ``y`` can be split and trained on: at
    least two classes, numbered from 0 with none skipped, each with ``MIN_PER_CLASS`` points."""
    counts = np.bincount(np.asarray(y, np.int64), minlength=1)
    if np.count_nonzero(counts) < 2:
        raise PointsError(f"Place points of at least two classes, {MIN_PER_CLASS} or more of "
                          "each, to have something to learn.")
    missing = np.flatnonzero(counts == 0)
    if len(missing):
        raise PointsError(f"Class {missing[0]} has no points, but class {len(counts) - 1} has: "
                          "classes are numbered from 0 with none skipped. Place some of class "
                          f"{missing[0]}.")
    few = np.flatnonzero(counts < MIN_PER_CLASS)
    if len(few):
        raise PointsError(f"Class {few[0]} has a single point; every class needs at least "
                          f"{MIN_PER_CLASS}, so that one can be kept for the test.")


def class_names(n_classes: int) -> tuple[str, ...]:
    return tuple(f"class {c}" for c in range(n_classes))


# ---------------------------------------------------------------------- CSV
def to_csv(X, y) -> str:
    """The points as CSV: a header ``x1,x2,label``, then one row per point, in order."""
    rows = [",".join(CSV_HEADER)]
    rows += [f"{a:.2f},{b:.2f},{int(c)}" for (a, b), c in zip(np.asarray(X), np.asarray(y))]
    return "\n".join(rows) + "\n"


def from_csv(lines) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) from CSV text lines (an iterable of str), as ``to_csv`` writes them: the header
    ``x1,x2,label``, then rows of two coordinates on the plane and a class. Read row by row
    and refused at the first wrong row, with its number (the header is row 1): a wrong
    column, a value that is not a number (NaN, ∞), a point off the plane, a class out of
    range, or more than ``MAX_POINTS`` points. Coordinates are kept to the 0.01 grid."""
    reader = csv.reader(lines)
    X, y = [], []
    try:
        header = next(reader, None)
        if header is None or [c.strip().lower() for c in header] != list(CSV_HEADER):
            shown = ",".join(c.strip() for c in header or [])[:60] or "nothing"
            raise PointsError(f"Row 1 must be the header {','.join(CSV_HEADER)}; it is "
                              f"{shown!r}.")
        for row in reader:
            where = f"Row {reader.line_num}"
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(CSV_HEADER):
                raise PointsError(f"{where} has {len(row)} columns; every row has three: "
                                  f"{', '.join(CSV_HEADER)}.")
            if len(y) == MAX_POINTS:
                raise PointsError(f"{where}: more than {MAX_POINTS:,} points; a drawn set holds "
                                  f"at most {MAX_POINTS:,}.")
            X.append([_coordinate(row[k], CSV_HEADER[k], where) for k in (0, 1)])
            y.append(_label(row[2], where))
    except csv.Error as e:
        raise PointsError(f"Row {reader.line_num} could not be read as CSV: {e}.") from None
    X = np.array(X, dtype=np.float64).reshape(-1, 2)
    return to_coordinate(to_index(X)), np.array(y, dtype=np.int64)


def _number(cell: str, what: str, where: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise PointsError(f"{where}: {what} is {cell.strip()[:20]!r}, not a number.")
    return value


def _coordinate(cell: str, what: str, where: str) -> float:
    value = _number(cell, what, where)
    if not -PLANE <= value <= PLANE:
        raise PointsError(f"{where}: {what} = {value:g} is off the plane (−{PLANE:g} … {PLANE:g}).")
    return value


def _label(cell: str, where: str) -> int:
    value = _number(cell, "label", where)
    if value != int(value) or not 0 <= value < MAX_CLASSES:
        raise PointsError(f"{where}: label {cell.strip()[:20]!r} is not a class 0 … "
                          f"{MAX_CLASSES - 1}.")
    return int(value)
