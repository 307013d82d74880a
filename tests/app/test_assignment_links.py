"""Assignment links, driven with AppTest: settings locked (shown, disabled) or hidden (absent),
the teacher's question at the top of the Training page as plain text, the sidebar's word on
the lock and its one-click Unlock, a link with unknown parts falling back with a note, and
the teacher's link made in the app."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from lab import links, pages, state
from lab.links.assignment import MAX_PROMPT, SETTINGS
from nncore.data import points as drawn
from support.plotly_selection import chart_id, select_on_chart

APP = str(Path(__file__).resolve().parents[2] / "app.py")
MOONS = {"v": "2", "data": "moons", "n": "200", "layers": "8relu,4tanh", "opt": "sgd",
         "lr": "0.5", "bs": "32", "ep": "3"}
QUESTION = ("Before you press Start: what will happen to the boundary if you halve the "
            "learning rate?")


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "went wrong" in e.value]
    return at


def opened(query: dict, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.run()
    if page:
        at.switch_page(page).run()
    return ok(at)


def widgets(at: AppTest) -> dict:
    """Every input widget of the page by key: whether it is disabled."""
    found = {}
    for kind in ("number_input", "slider", "selectbox", "checkbox", "multiselect", "radio",
                 "button", "text_area"):
        found.update({w.key: w.disabled for w in at.main.get(kind) if getattr(w, "key", None)})
    return found


def sidebar_text(at: AppTest) -> str:
    return " ".join(e.value for kind in ("markdown", "caption")
                    for e in at.sidebar.get(kind))


# ------------------------------------------------------------------ no assignment: as today
def test_a_link_without_assignment_parts_behaves_as_today():
    at = opened(MOONS, pages.ARCHITECTURE)
    assert at.session_state[state.NOTES] == []
    assert "locked" not in sidebar_text(at) and not at.sidebar.get("button")
    shown = widgets(at)
    assert not any(disabled for key, disabled in shown.items()
                   if key.startswith(("arch_lr", "arch_units", "arch_l2", "arch_seed", "arch_sched",
                                      "preset_load", "arch_reset")))
    for key in ("lock", "hide", "ask"):
        assert key not in at.query_params
    at.switch_page(pages.TRAINING).run()
    assert not at.get("text")                      # no question


# ------------------------------------------------------------------ locked and hidden
def test_locked_settings_are_shown_disabled_and_hidden_ones_are_absent():
    at = opened({**MOONS, "lock": "lr,layers,opt,ep", "hide": "l2,sched,seed"}, pages.ARCHITECTURE)
    shown = widgets(at)
    for key in ("arch_lr", "arch_opt", "arch_ep", "arch_units_0", "arch_act_0", "arch_units_1",
                "arch_drop_1", "arch_kind_0", "arch_del_0", "arch_add", "arch_reset",
                "preset_load_seed003-moons"):
        assert shown[key] is True, key
    for key in ("arch_l2", "arch_sched", "arch_seed", "arch_minlr"):
        assert key not in shown, key
    for key in ("arch_bs", "arch_full", "arch_shuf", "arch_loss"):   # not locked: editable
        assert shown[key] is False, key
    # still editable, and still fine: a setting that is not locked changes
    at.number_input(key="arch_bs").set_value(16).run()
    assert ok(at).session_state[state.SPEC].batch_size == 16
    assert "**This setup is locked** by the assignment link" in sidebar_text(at)
    assert ("The hidden layers, the optimizer, the learning rate and the epochs are locked; the "
            "learning-rate schedule, L2 weight decay and the seed are hidden.") in sidebar_text(at)


def test_a_fixed_setting_does_not_change_by_any_road():
    at = opened({**MOONS, "lock": "lr", "hide": "layers"}, pages.ARCHITECTURE)
    before = at.session_state[state.SPEC]
    # a preset on the Home page would change both: it is not loaded, and the next page says why
    at.switch_page(pages.HOME).run()
    at.button(key="home_preset_seed003-moons").click().run()
    assert ok(at).session_state[state.SPEC] == before
    at.switch_page(pages.DATASET).run()
    assert any("The preset was not loaded: The hidden layers and the learning rate are fixed "
               "by the assignment link; Unlock in the sidebar to change them." in w.value
               for w in at.warning)
    # the hidden layers' section is not on the Architecture page at all
    at.switch_page(pages.ARCHITECTURE).run()
    assert not [k for k in widgets(at) if k.startswith(("arch_units", "arch_add"))]
    assert "Hidden layers" not in [h.value for h in at.subheader]


def test_the_data_set_locked_or_hidden_on_the_dataset_page():
    at = opened({**MOONS, "lock": "data"}, pages.DATASET)
    shown = widgets(at)
    assert shown["data_name"] and shown["data_moons_n_samples"] and shown["data_moons_noise"]
    assert not at.get("file_uploader")                       # no upload while the data is fixed
    hidden = opened({**MOONS, "hide": "data"}, pages.DATASET)
    assert "data_name" not in widgets(hidden) and not hidden.get("file_uploader")
    assert any("**Two moons**, as the assignment link set it." in m.value for m in hidden.markdown)
    assert {m.label for m in hidden.get("metric")} >= {"Training", "Test"}   # still shown


def test_your_own_points_locked_are_shown_and_cannot_be_edited():
    points = drawn.encode([[0, 0], [0.5, 0], [1, 1], [1.5, 1]], [0, 0, 1, 1])
    at = opened({"v": "2", "data": "points", "pts": points, "lock": "data"}, pages.DATASET)
    shown = widgets(at)
    assert shown["points_class"] and shown["points_tool"] and shown["points_undo_button"]
    assert shown["points_clear"] and not at.get("file_uploader")
    plane = next(c for c in at.get("plotly_chart") if c.proto.id == chart_id(at, "points_plane"))
    assert list(plane.proto.selection_mode) == []       # nothing on it can be selected …
    select_on_chart(at, "points_plane", points=[{"curve_number": 0, "x": 20, "y": -20}])
    assert ok(at).session_state[state.SPEC].data["points"] == points     # … nor placed
    assert any("locked by the assignment link" in c.value for c in at.caption)


# ------------------------------------------------------------------ the question
def test_the_question_is_plain_text_at_the_top_of_the_training_page():
    tricky = QUESTION + " **bold** <script>alert(1)</script> [x](javascript:alert(1)) $x^2$"
    at = opened({**MOONS, "ask": tricky}, pages.TRAINING)
    texts = [t.value for t in at.text]
    assert texts == [tricky]                               # st.text: no Markdown, no HTML
    assert not any("<script>" in m.value or "javascript" in m.value for m in at.markdown)
    assert at.main.get("title")[0].value == "Training"
    assert at.main.markdown[0].value == "**📝 Your assignment**"   # the first thing under it
    # no lock: the sidebar says nothing of one
    assert "locked" not in sidebar_text(at)


@pytest.mark.parametrize("length, shown, note", [
    (MAX_PROMPT, MAX_PROMPT, None),
    (MAX_PROMPT + 50, MAX_PROMPT, "cut to its first 300 characters"),
    (10 * MAX_PROMPT, 0, "more than a question may be (300); it was left out"),
])
def test_the_question_is_bounded(length, shown, note):
    at = opened({**MOONS, "ask": ("Why" + "?" * length)[:length]}, pages.TRAINING)
    texts = [t.value for t in at.text]
    assert (len(texts[0]) if texts else 0) == shown
    notes = at.session_state[state.NOTES]
    assert (notes == []) if note is None else (len(notes) == 1 and note in notes[0])


# ------------------------------------------------------------------ unlock
def test_unlock_is_one_click_and_the_question_stays():
    at = opened({**MOONS, "lock": "lr,layers", "hide": "l2", "ask": QUESTION}, pages.ARCHITECTURE)
    assert at.query_params["lock"] == "layers,lr" and at.query_params["hide"] == "l2"
    assert widgets(at)["arch_lr"] is True and "arch_l2" not in widgets(at)
    at.sidebar.button(key="assignment_unlock").click().run()
    shown = widgets(ok(at))
    assert shown["arch_lr"] is False and shown["arch_l2"] is False and shown["arch_units_0"] is False
    assert "locked" not in sidebar_text(at) and not at.sidebar.get("button")
    at.number_input(key="arch_lr").set_value(0.25).run()
    assert ok(at).session_state[state.SPEC].optimizer["lr"] == 0.25
    assert "lock" not in at.query_params and at.query_params["ask"] == QUESTION
    at.switch_page(pages.TRAINING).run()
    assert [t.value for t in at.text] == [QUESTION]


# ------------------------------------------------------------------ what cannot be read
def test_a_locked_link_with_unknown_fields_falls_back_with_a_note():
    at = opened({**MOONS, "lock": "lr,momentum,<script>", "hide": "everything", "zz": "1"},
                pages.ARCHITECTURE)
    notes = at.session_state[state.NOTES]
    assert any("locks `momentum`, which is not a setting a link can lock" in n for n in notes)
    assert any("locks `<script>`" in n for n in notes)
    assert any("hides `everything`, which is not a setting a link can hide" in n for n in notes)
    assert any("`zz` is not one this app knows" in n for n in notes)
    assert widgets(at)["arch_lr"] is True                 # what could be read still holds
    assert at.session_state[state.SPEC].optimizer == {"name": "sgd", "lr": 0.5}
    # a lock that says more than there are settings locks nothing
    at = opened({**MOONS, "lock": ",".join(["lr"] * 40)}, pages.ARCHITECTURE)
    assert any("nothing was locked by it" in n for n in at.session_state[state.NOTES])
    assert widgets(at)["arch_lr"] is False


def test_every_setting_a_link_can_fix_is_refused_when_changed():
    """The check behind every road into the setup: each setting of SETTINGS, changed."""
    from lab.links.assignment import Assignment, Locked
    from nncore.runs.spec import LayerSpec, RunSpec
    base = RunSpec(data={"name": "moons"}, hidden=[LayerSpec(8)])
    changes = {"data": dict(data={"name": "circles"}), "layers": dict(hidden=[LayerSpec(9)]),
               "loss": dict(loss="mse"), "opt": dict(optimizer={"name": "adam", "lr": 0.001,
                                                                 "beta1": 0.8}),
               "lr": dict(optimizer={"name": "adam", "lr": 0.002}),
               "sched": dict(schedule={"name": "constant"}), "l2": dict(l2=0.1),
               "bs": dict(batch_size=None), "ep": dict(epochs=3), "shuf": dict(shuffle=False),
               "seed": dict(seed=4)}
    assert set(changes) == set(SETTINGS)
    for name, change in changes.items():
        new = base.replace(**change)
        for other in SETTINGS:                   # only the setting it covers is refused
            check = Assignment(locked=(other,)).check
            if other == name:
                with pytest.raises(Locked, match="fixed by the assignment link"):
                    check(base, new)
            else:
                check(base, new)


# ------------------------------------------------------------------ the teacher's side
def test_the_teacher_makes_the_link_in_the_app_and_it_opens_locked():
    teacher = opened(MOONS, pages.ARCHITECTURE)
    teacher.multiselect(key="assign_lock").set_value(["lr", "layers"]).run()
    teacher.multiselect(key="assign_hide").set_value(["l2"]).run()
    teacher.text_area(key="assign_ask").set_value(QUESTION).run()
    link = ok(teacher).main.code[-1].value
    assert teacher.session_state[state.SPEC].optimizer["lr"] == 0.5
    assert "locked" not in sidebar_text(teacher)          # the teacher's own setup: not locked
    params = dict(parse_qsl(urlparse(link).query))
    assert params["lock"] == "layers,lr" and params["hide"] == "l2" and params["ask"] == QUESTION
    learner = opened(params, pages.TRAINING)
    assert [t.value for t in learner.text] == [QUESTION]
    assert "**This setup is locked** by the assignment link" in sidebar_text(learner)
    assert learner.session_state[state.SPEC] == teacher.session_state[state.SPEC]
    learner.switch_page(pages.ARCHITECTURE).run()
    assert widgets(learner)["arch_lr"] is True and "arch_l2" not in widgets(learner)


def test_the_teachers_link_opens_on_the_training_page():
    at = opened(MOONS, pages.ARCHITECTURE)
    at.context["url"] = "https://nn-lab.example/architecture"
    at.run()
    link = ok(at).main.code[-1].value
    assert link.startswith("https://nn-lab.example/training?v=2&data=moons")
    assert links.is_link(dict(parse_qsl(urlparse(link).query)))
