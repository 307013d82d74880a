"""Dataset page: choose the data, its parameters and splits, and look at it.

Every widget is bound to the current setup (``shared.get_spec().data``): before a widget
is drawn its value is set from the setup, and its callback writes the setup back, so the
choice survives page switches, presets and links alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import shared
from training_views import CLASS_COLOURS, tile
from nncore.data import DATASETS, DataUnavailable
from nncore.data.mnist import IDX_FILES, KINDS as MNIST_KINDS

ERROR = "data_page_error"        # a refused change, shown once
DRAW = "data_draw"               # which random sample of images the grid shows
SAMPLE_COUNT = 24
UPLOAD_PARAMS = {k: DATASETS["digits"].params[k] for k in ("val_fraction", "test_fraction", "seed")}


# ------------------------------------------------------------------ binding widgets to the spec
def _params_of(name: str) -> dict:
    return UPLOAD_PARAMS if name == shared.UPLOAD else DATASETS[name].params


def _key(name: str, param: str) -> str:
    return f"data_{name}_{param}"


def _title(name: str) -> str:
    return shared.dataset_title(name)


def _set_data(data: dict) -> None:
    val, test = data.get("val_fraction") or 0.0, data.get("test_fraction") or 0.0
    if val + test >= 0.9:
        st.session_state[ERROR] = (f"Validation ({val:g}) and test ({test:g}) together would "
                                   "leave almost nothing to train on; keep their sum below 0.9.")
        return
    spec = shared.get_spec()
    if spec.data == data:
        return
    spec.data = data
    try:
        shared.set_spec(spec)
    except ValueError as e:
        st.session_state[ERROR] = str(e)
        return
    st.session_state[shared.PRESET] = None


def _on_name() -> None:
    name = st.session_state["data_name"]
    params = _params_of(name)
    _set_data({"name": name, **{k: p.default for k, p in params.items() if p.default is not None}})


def _on_param(name: str) -> None:
    data = {"name": name}
    for param, ps in _params_of(name).items():
        if ps.default is None and not st.session_state.get(_key(name, param) + "_on"):
            continue
        value = st.session_state.get(_key(name, param))
        data[param] = ps.clamp(value)
    _set_data(data)


def _on_folder(name: str) -> None:
    folder = (st.session_state.get(f"data_dir_{name}") or "").strip()
    if not folder:
        shared.set_mnist_folder(name, None)
        return
    path = Path(folder).expanduser()
    if not path.is_dir():
        st.session_state[ERROR] = f"{folder} is not a folder on this machine."
        return
    missing = [f for f in IDX_FILES if not (path / f).is_file() and not (path / f"{f}.gz").is_file()]
    if missing:
        st.session_state[ERROR] = (f"{folder} lacks {', '.join(m + '.gz' for m in missing)}: "
                                   "all four IDX files are needed.")
        return
    shared.set_mnist_folder(name, str(path))


def _on_upload() -> None:
    file = st.session_state.get("data_upload")
    if file is None:
        return
    try:
        upload = shared.parse_upload(file.name, file.getvalue())
    except ValueError as e:
        st.session_state[ERROR] = f"The upload {shared._safe_name(file.name)} was not used: {e}"
        return
    shared.set_upload(upload)
    st.session_state["data_upload_ok"] = (
        f"Loaded {upload['filename']}: {len(upload['y']):,} rows, {upload['X'].shape[1]} "
        f"features, {len(upload['class_names'])} classes.")


def _redraw() -> None:
    st.session_state[DRAW] = st.session_state.get(DRAW, 0) + 1


# ------------------------------------------------------------------ the page
# The frame (app.py) normally does this; AppTest's switch_page runs a page without app.py,
# so the page makes sure of it too (both calls do nothing the second time).
shared.init_state()
shared.apply_link_once()
shared.sync_link()

st.title("📊 Dataset")
st.write("Choose what the network learns from. The choice is kept while you move between pages "
         "and travels with the link in the sidebar.")

spec = shared.get_spec()
data = spec.data
options = list(DATASETS) + ([shared.UPLOAD] if st.session_state.get(shared.UPLOADED) else [])
current = data["name"] if data["name"] in options else options[0]

if ERROR in st.session_state:
    shared.show_error(st.session_state.pop(ERROR))
if "data_upload_ok" in st.session_state:
    st.success(st.session_state.pop("data_upload_ok"))

left, right = st.columns([2, 3])
with left:
    st.session_state["data_name"] = current
    titles = {name: _title(name) for name in options}
    st.selectbox("Data set", options, format_func=titles.get, key="data_name", on_change=_on_name)
    if current in DATASETS:
        st.caption(DATASETS[current].description)
with right:
    params = _params_of(current)
    cols = st.columns(max(1, min(3, len(params))))
    for i, (param, ps) in enumerate(params.items()):
        key = _key(current, param)
        value = data.get(param, ps.default)
        with cols[i % len(cols)]:
            label = {"n_samples": "Samples", "noise": "Noise", "seed": "Seed",
                     "val_fraction": "Validation share", "test_fraction": "Test share",
                     "limit": "Training images"}.get(param, param)
            if ps.default is None:   # optional: off unless switched on
                st.session_state[key + "_on"] = value is not None
                st.checkbox({"limit": "Use a subset", "n_samples": "Noisy cloud"}.get(param, f"Set {label}"),
                            key=key + "_on", on_change=_on_param, args=(current,), help=ps.help)
                value = value if value is not None else (1000 if param == "limit" else 200)
            st.session_state[key] = ps.clamp(value)
            disabled = ps.default is None and not st.session_state[key + "_on"]
            if ps.type is int:
                st.number_input(label, min_value=int(ps.min), max_value=int(ps.max),
                                step=50 if param in ("n_samples", "limit") else 1, key=key,
                                on_change=_on_param, args=(current,), help=ps.help, disabled=disabled)
            else:
                st.slider(label, min_value=float(ps.min), max_value=float(ps.max), step=0.01,
                          key=key, on_change=_on_param, args=(current,), help=ps.help,
                          disabled=disabled)

# ------------------------------------------------------------------ load it
if current in MNIST_KINDS:
    kind = MNIST_KINDS[current]
    bar = st.empty()
    shared.download_with_progress(
        current, lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), text=message))
    bar.empty()

try:
    ds = shared.dataset_for(data)
except (ValueError, DataUnavailable) as e:
    shared.show_error(f"This data set could not be loaded: {e}")
    st.stop()

if ds.fallback_reason:
    st.warning(f"**{_title(current)} could not be loaded, so the 8×8 digits stand in for it.** "
               "Everything below — and training — uses those 1,797 small digits until the "
               "real files are found.", icon="📦")
if current in MNIST_KINDS:
    with st.expander("Use local IDX files" + (" — why the fallback?" if ds.fallback_reason else ""),
                     expanded=bool(ds.fallback_reason)):
        if ds.fallback_reason:
            st.caption(ds.fallback_reason)
        st.markdown(
            f"Without internet the app reads {kind.title} from a folder holding the four IDX "
            f"files ({', '.join(f'`{f}.gz`' for f in IDX_FILES)}; unpacked files work too). "
            f"Either start the app with the environment variable `{kind.env_var}` set to that "
            "folder, or type the folder here (it is kept for this session only and never put "
            "in a link).")
        st.session_state[f"data_dir_{current}"] = shared.mnist_folder(current) or ""
        st.text_input("Folder with the IDX files", key=f"data_dir_{current}",
                      on_change=_on_folder, args=(current,), placeholder="/path/to/mnist")

problems = spec.problems(ds.n_classes)
for problem in problems:
    st.warning(problem + " Change it on the Architecture page.", icon="🧱")

if not ds.fallback_reason:
    st.caption(ds.description)
m = st.columns(5)
m[0].metric("Training", f"{ds.n_train:,}")
m[1].metric("Validation", f"{ds.n_val:,}")
m[2].metric("Test", f"{ds.n_test:,}")
m[3].metric("Features", f"{ds.n_features:,}")
m[4].metric("Classes", ds.n_classes)


# ------------------------------------------------------------------ views
def class_counts_figure(ds):
    fig = go.Figure()
    for split, color in (("train", "#4f46e5"), ("val", "#f59e0b"), ("test", "#10b981")):
        counts = np.bincount(getattr(ds, f"y_{split}"), minlength=ds.n_classes)
        fig.add_trace(go.Bar(x=list(ds.class_names), y=counts, name=split, marker_color=color))
    fig.update_layout(barmode="group", height=360, margin=dict(t=50, b=10),
                      title="Examples per class in each split", xaxis_type="category",
                      yaxis_title="examples", legend_title="split")
    return fig


def image_grid_figure(images, titles, cols, title, height):
    """Small images tiled into one heatmap (much lighter than one subplot per image), each
    with its label above it."""
    n, h, w = images.shape
    gap = max(2, h // 4)
    canvas = tile(images, cols, row_gap=gap, gap_above=True)
    fig = go.Figure(go.Heatmap(z=canvas, colorscale="Greys", zmin=0, showscale=False,
                               zmax=max(1.0, float(np.nanmax(images))), hoverinfo="skip"))
    for i, text in enumerate(titles):
        r, c = divmod(i, cols)
        fig.add_annotation(x=c * (w + 1) + (w - 1) / 2, y=r * (h + gap) + gap - 0.6, text=text,
                           showarrow=False, yanchor="bottom", font=dict(size=12))
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    fig.update_layout(title=title, height=height, margin=dict(t=40, b=0, l=0, r=0),
                      plot_bgcolor="white")
    return fig


SYMBOLS = {"train": "circle", "val": "diamond", "test": "x"}


def scatter_figure(ds, limit=4000):
    X = np.concatenate([ds.X_train, ds.X_val, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    split = np.repeat(["train", "val", "test"], [ds.n_train, ds.n_val, ds.n_test])
    if len(X) > limit:
        keep = np.random.default_rng(0).choice(len(X), limit, replace=False)
        X, y, split = X[keep], y[keep], split[keep]
    second = X[:, 1] if X.shape[1] > 1 else np.zeros(len(X))
    fig = go.Figure()
    for c, name in enumerate(ds.class_names):
        m = y == c
        fig.add_trace(go.Scatter(
            x=X[m, 0], y=second[m], mode="markers", name=name,
            marker=dict(size=6, opacity=0.75, color=CLASS_COLOURS[c % len(CLASS_COLOURS)],
                        symbol=[SYMBOLS[s] for s in split[m]]),
            text=split[m], hovertemplate="%{text}: (%{x:.2f}, %{y:.2f})<extra>" + name + "</extra>"))
    total = ds.n_train + ds.n_val + ds.n_test
    fig.update_yaxes(scaleanchor="x", scaleratio=1, title="x₂")
    fig.update_xaxes(title="x₁")
    fig.update_layout(height=520, margin=dict(t=50, b=10), legend_title="class",
                      title="Every point, coloured by class" if len(X) == total
                      else f"A random {len(X):,} of the {total:,} points, coloured by class")
    return fig


if ds.is_image:
    h, w = ds.image_shape
    tabs = st.tabs(["Samples", "Class counts", "Mean image per class", "Pixel intensities"])
    with tabs[0]:
        rng = np.random.default_rng(st.session_state.get(DRAW, 0))
        idx = rng.choice(ds.n_train, size=min(SAMPLE_COUNT, ds.n_train), replace=False)
        images = ds.X_train[idx].reshape(-1, h, w)
        st.plotly_chart(image_grid_figure(images, [ds.class_names[c] for c in ds.y_train[idx]],
                                          8, "Random training images with their labels", 420),
                        key="data_samples_chart")
        st.button("Draw other samples", icon=":material/casino:", key="data_redraw", on_click=_redraw)
    with tabs[1]:
        st.plotly_chart(class_counts_figure(ds), key="data_counts_chart")
    with tabs[2]:
        shown = list(range(min(ds.n_classes, 20)))
        means = np.stack([ds.X_train[ds.y_train == c].mean(axis=0) if np.any(ds.y_train == c)
                          else np.zeros(ds.n_features, np.float32) for c in shown]).reshape(-1, h, w)
        st.plotly_chart(image_grid_figure(means, [ds.class_names[c] for c in shown], 10,
                                          "The mean training image of each class", 260),
                        key="data_means_chart")
        st.caption("Each picture averages every training image of one class: the network's "
                   "first layer sees exactly these pixels, one input per pixel.")
    with tabs[3]:
        rows = ds.X_train[: min(ds.n_train, 2000)]
        counts, edges = np.histogram(rows, bins=32, range=(0.0, max(1.0, float(rows.max()))))
        fig = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, marker_color="#4f46e5"))
        fig.update_yaxes(type="log", title="pixels")
        fig.update_xaxes(title="pixel intensity (0 = background, 1 = full ink)")
        fig.update_layout(height=360, margin=dict(t=50, b=10), bargap=0.05,
                          title=f"Pixel intensities of {len(rows):,} training images (log scale)")
        st.plotly_chart(fig, key="data_hist_chart")
else:
    tabs = st.tabs(["Scatter", "Class counts"])
    with tabs[0]:
        st.plotly_chart(scatter_figure(ds), key="data_scatter_chart")
        st.caption("● training · ◆ validation · ✕ test points.")
        if ds.n_features > 2:
            st.caption(f"Only the first two of the {ds.n_features} features are plotted.")
    with tabs[1]:
        st.plotly_chart(class_counts_figure(ds), key="data_counts_chart")

# ------------------------------------------------------------------ upload
with st.expander("📤 Upload your own data set"):
    st.markdown(
        "A **CSV** file with a header row, numeric feature columns and a label column (named "
        "`label`, `y`, `target` or `class`, else the last column), or an **.npz** file holding "
        "arrays `X` (rows × features, or images) and `y` (one label per row). At most "
        f"{shared.UPLOAD_LIMITS['max_rows']:,} rows, {shared.UPLOAD_LIMITS['max_features']:,} "
        f"features, {shared.UPLOAD_LIMITS['max_classes']} classes and "
        f"{shared.UPLOAD_LIMITS['max_bytes'] // 2**20} MB. The data stays in this session: it is "
        "not stored on the server and a shared link cannot carry it.")
    # No type= filter: Streamlit would reject other names with an exception of its own;
    # parse_upload refuses them with a sentence instead.
    st.file_uploader("Data file (.csv or .npz)", key="data_upload", on_change=_on_upload)
