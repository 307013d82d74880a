"""Dataset page: choose the data, its parameters and splits, and look at it.

Every widget is bound to the current setup (``state.get_spec().data``): before a widget is
drawn its value is set from the setup, and its callback writes a new setup back, so the
choice survives page switches, presets and links alike. The widgets' ranges are the data
sets' own ``ParamSpec`` tables, the same ones ``load_dataset`` checks.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lab import datasets, sharing, state
from lab.figures import dataset as figures
from lab.links import UPLOAD
from lab.page import callback, notice, run_page, show_error, show_notice
from lab.pages.dataset import points
from lab.uploads import UPLOAD_LIMITS, parse_upload, safe_name
from nncore.data import DATASETS, DataUnavailable
from nncore.data import points as drawn
from nncore.data.mnist import IDX_FILES, KINDS as MNIST_KINDS

DRAW = "data_draw"               # which random sample of images the grid shows
SAMPLE_COUNT = 24
LABELS = {"n_samples": "Samples", "noise": "Noise", "seed": "Seed",
          "val_fraction": "Validation share", "test_fraction": "Test share",
          "limit": "Training images"}


# ------------------------------------------------------------------ binding widgets to the spec
def _params_of(name: str) -> dict:
    return datasets.UPLOAD_PARAMS if name == UPLOAD else DATASETS[name].params


def _key(name: str, param: str) -> str:
    return f"data_{name}_{param}"


def _set_data(data: dict) -> None:
    val, test = data.get("val_fraction") or 0.0, data.get("test_fraction") or 0.0
    if val + test >= 0.9:
        notice("error", f"Validation ({val:g}) and test ({test:g}) together would leave almost "
                        "nothing to train on; keep their sum below 0.9.")
        return
    spec = state.get_spec()
    if spec.data == data:
        return
    state.set_spec(spec.replace(data=data))     # refused: the callback says why


def _own_points(name: str) -> dict:
    """Your own points go with their data set's parameters: the current ones, else the last
    drawing of this session."""
    if name != drawn.NAME:
        return {}
    text = state.get_spec().data.get("points") or points.kept()
    return {"points": text} if text else {}


@callback
def _on_name() -> None:
    name = st.session_state["data_name"]
    params = _params_of(name)
    _set_data({"name": name, **{k: p.default for k, p in params.items() if p.default is not None},
               **_own_points(name)})


@callback
def _on_param(name: str) -> None:
    data = {"name": name, **_own_points(name)}
    for param, ps in _params_of(name).items():
        if ps.default is None and not st.session_state.get(_key(name, param) + "_on"):
            continue
        data[param] = ps.clamp(st.session_state.get(_key(name, param)))
    _set_data(data)


@callback
def _on_folder(name: str) -> None:
    folder = str(st.session_state.get(f"data_dir_{name}") or "")
    try:       # checked and resolved there: inside the host's data root, if one is named
        datasets.set_mnist_folder(name, folder.strip() or None)
    except ValueError as e:
        notice("error", str(e))


@callback
def _on_upload() -> None:
    file = st.session_state.get("data_upload")
    if file is None:
        return
    try:
        upload = parse_upload(file.name, file.getvalue())
    except ValueError as e:
        notice("error", f"The upload {safe_name(file.name)} was not used: {e}")
        return
    datasets.set_upload(upload)
    notice("success", f"Loaded {upload['filename']}: {len(upload['y']):,} rows, "
                      f"{upload['X'].shape[1]} features, {len(upload['class_names'])} classes.")


@callback
def _redraw() -> None:
    st.session_state[DRAW] = st.session_state.get(DRAW, 0) + 1


# ------------------------------------------------------------------ the page's parts
def _choose(current: str, options: list, data: dict) -> None:
    """The data set and its parameters (disabled while an assignment link fixes the data)."""
    off = sharing.fixed("data")
    left, right = st.columns([2, 3])
    with left:
        st.session_state["data_name"] = current
        titles = {name: datasets.dataset_title(name) for name in options}
        st.selectbox("Data set", options, format_func=titles.get, key="data_name",
                     on_change=_on_name, disabled=off)
        if current in DATASETS:
            st.caption(DATASETS[current].description)
    with right:
        params = _params_of(current)
        cols = st.columns(max(1, min(3, len(params))))
        for i, (param, ps) in enumerate(params.items()):
            key = _key(current, param)
            value = data.get(param, ps.default)
            label = LABELS.get(param, param)
            with cols[i % len(cols)]:
                if ps.default is None:   # optional: off unless switched on
                    st.session_state[key + "_on"] = value is not None
                    st.checkbox({"limit": "Use a subset", "n_samples": "Noisy cloud"}.get(
                                param, f"Set {label}"), key=key + "_on", on_change=_on_param,
                                args=(current,), help=ps.help, disabled=off)
                    value = value if value is not None else (1000 if param == "limit" else 200)
                st.session_state[key] = ps.clamp(value)
                disabled = off or (ps.default is None and not st.session_state[key + "_on"])
                if ps.type is int:
                    st.number_input(label, min_value=int(ps.min), max_value=int(ps.max),
                                    step=50 if param in ("n_samples", "limit") else 1, key=key,
                                    on_change=_on_param, args=(current,), help=ps.help,
                                    disabled=disabled)
                else:
                    st.slider(label, min_value=float(ps.min), max_value=float(ps.max), step=0.01,
                              key=key, on_change=_on_param, args=(current,), help=ps.help,
                              disabled=disabled)


def _local_files(current: str, ds) -> None:
    kind = MNIST_KINDS[current]
    with st.expander("Use local IDX files" + (" — why the fallback?" if ds.fallback_reason else ""),
                     expanded=bool(ds.fallback_reason)):
        if ds.fallback_reason:
            st.caption(ds.fallback_reason)
        files = ", ".join(f"`{f}.gz`" for f in IDX_FILES)
        if not datasets.folder_box_allowed():
            # A hosted demo whose host named no data folder: visitors name no folders.
            st.markdown(f"This demo reads {kind.title} only from its host's own copy: "
                        "visitors cannot name folders on the server. On your own machine, "
                        f"start the app with `{kind.env_var}` set to a folder holding the four "
                        f"IDX files ({files}).")
            return
        root = datasets.data_root()
        where = ("a folder inside the data folder this demo offers (a path relative to it)"
                 if root else "a folder on this machine")
        st.markdown(
            f"Without internet the app reads {kind.title} from a folder holding the four IDX "
            f"files ({files}; unpacked files work too). Either start the app with the "
            f"environment variable `{kind.env_var}` set to that folder, or type {where} here "
            "(it is kept for this session only and never put in a link).")
        st.session_state[f"data_dir_{current}"] = datasets.shown_folder(current)
        st.text_input("Folder with the IDX files", key=f"data_dir_{current}",
                      on_change=_on_folder, args=(current,), max_chars=datasets.MAX_PATH,
                      placeholder="mnist" if root else "/path/to/mnist")


def _images(ds) -> None:
    h, w = ds.image_shape
    tabs = st.tabs(["Samples", "Class counts", "Mean image per class", "Pixel intensities"])
    with tabs[0]:
        rng = np.random.default_rng(st.session_state.get(DRAW, 0))
        idx = rng.choice(ds.n_train, size=min(SAMPLE_COUNT, ds.n_train), replace=False)
        images = ds.X_train[idx].reshape(-1, h, w)
        st.plotly_chart(figures.image_grid_figure(
            images, [ds.class_names[c] for c in ds.y_train[idx]], 8,
            "Random training images with their labels", 420), key="data_samples_chart")
        st.button("Draw other samples", icon=":material/casino:", key="data_redraw",
                  on_click=_redraw)
    with tabs[1]:
        st.plotly_chart(figures.class_counts_figure(ds), key="data_counts_chart")
    with tabs[2]:
        means = figures.class_means(ds)
        st.plotly_chart(figures.image_grid_figure(
            means, [ds.class_names[c] for c in range(len(means))], 10,
            "The mean training image of each class", 260), key="data_means_chart")
        st.caption("Each picture averages every training image of one class: the network's "
                   "first layer sees exactly these pixels, one input per pixel.")
    with tabs[3]:
        rows = ds.X_train[: min(ds.n_train, 2000)]
        st.plotly_chart(figures.pixel_histogram_figure(rows), key="data_hist_chart")


def _points(ds) -> None:
    tabs = st.tabs(["Scatter", "Class counts"])
    with tabs[0]:
        st.plotly_chart(figures.scatter_figure(ds), key="data_scatter_chart")
        st.caption("● training · ◆ validation · ✕ test points.")
        if ds.n_features > 2:
            st.caption(f"Only the first two of the {ds.n_features} features are plotted.")
    with tabs[1]:
        st.plotly_chart(figures.class_counts_figure(ds), key="data_counts_chart")


def _upload_box() -> None:
    with st.expander("📤 Upload your own data set"):
        st.markdown(
            "A **CSV** file with a header row, numeric feature columns and a label column "
            "(named `label`, `y`, `target` or `class`, else the last column), or an **.npz** "
            "file holding arrays `X` (rows × features, or images) and `y` (one label per row). "
            f"At most {UPLOAD_LIMITS['max_rows']:,} rows, {UPLOAD_LIMITS['max_features']:,} "
            f"features, {UPLOAD_LIMITS['max_classes']} classes and "
            f"{UPLOAD_LIMITS['max_bytes'] // 2**20} MB. The data stays in this session: it is "
            "not stored on the server and a shared link cannot carry it.")
        # No type= filter: Streamlit would reject other names with an exception of its own;
        # parse_upload refuses them with a sentence instead.
        st.file_uploader("Data file (.csv or .npz)", key="data_upload", on_change=_on_upload)


# ------------------------------------------------------------------ the page
def render() -> None:
    st.title("📊 Dataset")
    st.write("Choose what the network learns from. The choice is kept while you move between "
             "pages and travels with the link in the sidebar.")
    spec = state.get_spec()
    data = spec.data
    options = list(DATASETS) + ([UPLOAD] if datasets.uploaded() else [])
    current = data["name"] if data["name"] in options else options[0]
    show_notice()
    if sharing.hidden("data"):
        st.markdown(f"**{datasets.dataset_title(current)}**, as the assignment link set it.")
    else:
        _choose(current, options, data)

    if current in MNIST_KINDS:
        bar = st.empty()
        datasets.download_with_progress(
            current, lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0),
                                                            text=message))
        bar.empty()
    if current == drawn.NAME:
        points.editor(locked=sharing.fixed("data"))
    try:
        ds = datasets.dataset_for(data)
    except drawn.PointsError as e:           # not yet enough points: what to add
        st.info(str(e), icon="👆")
        return
    except (ValueError, DataUnavailable) as e:
        show_error(f"This data set could not be loaded: {e}")
        return

    if ds.fallback_reason:
        st.warning(f"**{datasets.dataset_title(current)} could not be loaded, so the 8×8 digits "
                   "stand in for it.** Everything below — and training — uses those 1,797 small "
                   "digits until the real files are found.", icon="📦")
    if current in MNIST_KINDS:
        _local_files(current, ds)
    for problem in spec.problems(ds.n_classes):
        st.warning(problem.message + " Change it on the Architecture page.", icon="🧱")
    if not ds.fallback_reason:
        st.caption(ds.description)
    m = st.columns(5)
    m[0].metric("Training", f"{ds.n_train:,}")
    m[1].metric("Validation", f"{ds.n_val:,}")
    m[2].metric("Test", f"{ds.n_test:,}")
    m[3].metric("Features", f"{ds.n_features:,}")
    m[4].metric("Classes", ds.n_classes)
    if ds.is_image:
        _images(ds)
    else:
        _points(ds)
    if not sharing.fixed("data"):
        _upload_box()


run_page(render)
