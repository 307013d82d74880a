"""lab/uploads.py on its own: an uploaded CSV or NPZ becomes arrays, or one sentence saying
what is wrong. No Streamlit is needed to read an upload."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lab.uploads import UPLOAD_LIMITS, parse_upload

ROOT = Path(__file__).resolve().parents[2]


def _csv(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_reading_an_upload_needs_no_streamlit():
    code = "import sys, lab.uploads; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_a_csv_with_a_named_label_column_anywhere():
    rows = ["x1,label,x2"] + [f"{i / 10},{'cat' if i % 2 else 'dog'},{-i}" for i in range(12)]
    up = parse_upload("pets.csv", _csv(rows))
    assert up["X"].dtype == np.float32 and up["X"].shape == (12, 2)
    np.testing.assert_array_equal(up["X"][:, 1], -np.arange(12))
    assert up["class_names"] == ("cat", "dog")               # sorted, then numbered
    np.testing.assert_array_equal(up["y"], [1, 0] * 6)
    assert up["image_shape"] is None and up["filename"] == "pets.csv"


def test_a_headerless_csv_takes_its_last_column_as_the_label():
    rows = [f"{i},{i * 2},{i % 3}" for i in range(30)]
    up = parse_upload("plain.csv", _csv(rows))
    assert up["X"].shape == (30, 2) and up["class_names"] == ("0", "1", "2")


def test_images_in_an_npz_keep_their_shape_and_are_scaled_to_one():
    images = (np.arange(20 * 4 * 5) % 200).astype(np.uint8).reshape(20, 4, 5)
    up = parse_upload("img.npz", _npz(X=images, y=np.arange(20) % 2))
    assert up["image_shape"] == (4, 5) and up["X"].shape == (20, 20)
    assert up["X"].max() <= 1.0 and up["X"].max() == pytest.approx(199 / 255)


@pytest.mark.parametrize("name, content, expected", [
    ("notes.txt", b"hello", "Upload a .csv file"),
    ("empty.csv", b"", "The file is empty"),
    ("short.csv", _csv(["a,label"] + [f"{i},{i % 2}" for i in range(5)]), "between 10 and"),
    ("text.csv", _csv(["a,label"] + [f"x{i},{i % 2}" for i in range(12)]), "must be numeric"),
    ("nan.csv", _csv(["a,label"] + ["nan,0"] + [f"{i},{i % 2}" for i in range(12)]), "missing"),
    # finite in float64, infinite in the float32 the network trains in
    ("huge.csv", _csv(["a,label"] + ["1e39,0"] + [f"{i},{i % 2}" for i in range(12)]),
     "float32"),
    ("lonely.csv", _csv(["a,label"] + [f"{i},0" for i in range(12)] + ["5,1"]),
     "single example"),
    ("ragged.csv", _csv(["a,b,label", "1,2,0", "1,0"]), "same number of columns"),
    ("half.csv", _csv(["a,label"] + [f"{i},{i % 2 + 0.5}" for i in range(12)]), "not whole"),
    ("pickle.npz", _npz(X=np.array([{"a": 1}] * 12, dtype=object), y=np.zeros(12)),
     "never unpickled"),
    ("nox.npz", _npz(A=np.zeros((12, 2)), y=np.zeros(12)), "arrays named X and y"),
    ("rows.npz", _npz(X=np.zeros((12, 2)), y=np.zeros(11, dtype=int)), "12 rows but y has 11"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "")
def test_bad_uploads_are_refused_with_a_sentence(name, content, expected):
    with pytest.raises(ValueError, match=expected):
        parse_upload(name, content)


def test_an_archive_that_unpacks_too_large_is_refused_before_it_is_unpacked():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("X.npy", b"\0" * (UPLOAD_LIMITS["max_unpacked_bytes"] + 1))
    assert len(buf.getvalue()) < 1_000_000                 # a small file that inflates hugely
    with pytest.raises(ValueError, match="unpacks to"):
        parse_upload("bomb.npz", buf.getvalue())


def test_a_file_name_cannot_become_a_link_or_formatting_on_the_page():
    from lab.uploads import safe_name
    shown = safe_name("[click me](http://example.com)*bold*_x_.csv")
    assert "[click me](" not in shown and "*bold*" not in shown
    # Markdown renders each escaped character as itself
    assert shown.replace("\\", "") == "[click me](http://example.com)*bold*_x_.csv"


def test_a_replaced_upload_is_never_taken_for_the_one_a_run_trained_on():
    """The data dict of an upload names it (a fingerprint of its arrays): a run of an
    earlier upload, scored after another replaced it, is told so instead of being scored
    on the new one; the data line shows no fingerprint."""
    from streamlit.testing.v1 import AppTest

    def script():
        import numpy as np
        import streamlit as st
        from lab import datasets, state
        from lab.summaries import data_line
        rng = np.random.default_rng(0)

        def upload(name):
            X = rng.random((60, 2)).astype(np.float32)
            return {"X": X, "y": (X[:, 0] > 0.5).astype(np.int64), "class_names": ("a", "b"),
                    "image_shape": None, "filename": name}
        state.init()
        datasets.set_upload(upload("one.csv"))
        first = dict(state.get_spec().data)
        st.text(data_line(state.get_spec()))
        datasets.dataset_for(first)                     # the upload it names: fine
        datasets.set_upload(upload("two.csv"))          # the same shape, other numbers
        assert state.get_spec().data["upload"] != first["upload"]
        try:
            datasets.dataset_for(first)
            st.text("scored on the new upload")
        except ValueError as exc:
            st.text(str(exc))

    at = AppTest.from_function(script).run()
    assert not at.exception, at.exception
    texts = [t.value for t in at.text]
    assert "earlier upload, replaced since by two.csv" in texts[1]
    assert "upload " not in texts[0] and texts[0].startswith("Uploaded: one.csv")
