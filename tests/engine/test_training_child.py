"""The training child imports nncore and nothing of the program that started it.

A Streamlit server installs the app's script as ``__main__``; multiprocessing would run
that script again in every child before training (importing Streamlit and the app, and
drawing the page where there is none). These tests stand a main script in for the app's
and check that the child never runs it, and that the parent keeps its own ``__main__``.
"""

import sys
import threading
import types

import numpy as np

from nncore import Dense, Network
from nncore.jobs import processes
from nncore.jobs.processes import ProcessTrainer

TIMEOUT = 30


def _main_script(tmp_path):
    """A module like the one Streamlit installs: named __main__, with the script's file.
    Running the script leaves a mark."""
    mark = tmp_path / "the main script ran"
    script = tmp_path / "app.py"
    script.write_text(f"open({str(mark)!r}, 'w').close()\n")
    module = types.ModuleType("__main__")
    module.__file__ = str(script)
    return module, mark


def _run(**kwargs):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = Network([Dense(2, 4, "relu"), Dense(4, 2, "softmax")], seed=0)
    return ProcessTrainer(net, X, y, epochs=3, batch_size=32, **kwargs)


def test_the_child_does_not_run_the_parents_main_script(tmp_path, monkeypatch):
    main, mark = _main_script(tmp_path)
    monkeypatch.setitem(sys.modules, "__main__", main)
    trainer = _run().start()
    assert trainer.join(TIMEOUT)
    assert trainer.progress().state == "finished", trainer.progress().message
    assert not mark.exists(), "the child ran the main script of the program that started it"
    assert sys.modules["__main__"] is main          # the parent's own, put back


def test_a_main_module_installed_while_a_child_starts_is_kept(tmp_path, monkeypatch):
    """Streamlit installs a new __main__ at every script run, from its own threads: one
    that arrives while a child starts must stay, not be replaced by the older one."""
    main, _ = _main_script(tmp_path)
    newer = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    entered, release = threading.Event(), threading.Event()
    real_engine_only = processes._engine_only

    def slow_engine_only():
        manager = real_engine_only()

        class Held:
            def __enter__(self):
                manager.__enter__()
                entered.set()
                release.wait(TIMEOUT)

            def __exit__(self, *exc):
                return manager.__exit__(*exc)
        return Held()

    monkeypatch.setattr(processes, "_engine_only", slow_engine_only)
    trainer = _run().start()
    assert entered.wait(TIMEOUT)
    sys.modules["__main__"] = newer                # a script run starts meanwhile
    release.set()
    assert trainer.join(TIMEOUT) and trainer.progress().state == "finished"
    assert sys.modules["__main__"] is newer
