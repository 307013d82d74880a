"""Data held once per server: ``shared_data.share`` puts an array in shared memory once,
every training process maps that block instead of a copy of its own, and the block goes
when its array goes, when the server exits, and when the server is killed."""

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nncore.jobs import processes, shared_data
from nncore.jobs.processes import ProcessTrainer
from nncore.jobs.threads import BackgroundTrainer
from support.jobs import TIMEOUT, small_network, wait_until, xor_signs

ROOT = Path(__file__).resolve().parents[2]

needs_dev_shm = pytest.mark.skipif(not Path(shared_data.SHM_DIR).is_dir(),
                                   reason="no /dev/shm on this system to look at")


def _block_path(ticket) -> Path:
    kind, where = ticket[:2]
    return Path(shared_data.SHM_DIR) / where.lstrip("/") if kind == "shm" else Path(where)


def test_a_shared_array_is_a_read_only_copy_with_a_ticket():
    X, _ = xor_signs(2048)
    shared = shared_data.share(X)
    assert np.array_equal(shared, X) and shared.dtype == X.dtype
    assert not shared.flags.writeable
    ticket = shared_data.ticket_of(shared)
    assert ticket[2:] == (X.shape, X.dtype.str)
    assert shared_data.share(shared) is shared            # shared once, not again
    assert shared_data.ticket_of(X) is None                # the original is not shared
    assert shared_data.ticket_of(shared[:10]) is None      # nor a part of it


@needs_dev_shm
def test_the_block_goes_when_its_array_goes():
    shared = shared_data.share(xor_signs(2048)[0])
    path = _block_path(shared_data.ticket_of(shared))
    assert path.exists()
    del shared
    gc.collect()
    assert not path.exists()


@needs_dev_shm
def test_training_processes_map_the_one_block_and_copy_nothing(monkeypatch):
    """Two runs at once on one shared data set: neither makes a block of its own, both
    children have the server's block in their address space, and each result is the
    thread run's, bit for bit."""
    monkeypatch.setattr(processes, "INLINE_BYTES", 0)      # small arrays too go by block
    X, y = (shared_data.share(a) for a in xor_signs(2048))
    names = {shared_data.ticket_of(a)[1] for a in (X, y)}
    runs = [ProcessTrainer(small_network(), X, y, epochs=10_000, batch_size=16, seed=i).start()
            for i in range(2)]
    try:
        for run in runs:
            assert wait_until(lambda: run.progress().step > 0)
            maps = Path(f"/proc/{run.process.pid}/maps").read_text()
            assert all(name.lstrip("/") in maps for name in names)
            assert run.data_blocks == ()
    finally:
        for run in runs:
            run.stop()
            assert run.join(TIMEOUT)
    reference = BackgroundTrainer(small_network(), X, y, epochs=3, batch_size=64, seed=7).start()
    child = ProcessTrainer(small_network(), X, y, epochs=3, batch_size=64, seed=7).start()
    assert reference.join(TIMEOUT) and child.join(TIMEOUT)
    for a, b in zip(reference.network.get_weights(), child.network.get_weights()):
        assert np.array_equal(a, b)
    assert all(_block_path(shared_data.ticket_of(a)).exists() for a in (X, y))  # still held


def test_small_arrays_travel_with_the_network(monkeypatch):
    X, y = xor_signs(256)
    run = ProcessTrainer(small_network(), X, y, epochs=2, batch_size=32).start()
    assert run.join(TIMEOUT)
    assert run.progress().state == "finished" and run.data_blocks == ()


@needs_dev_shm
@pytest.mark.parametrize("ending", ["exit", "kill"])
def test_no_block_outlives_the_server(ending):
    """A server that exits removes its blocks; one that is killed has them removed by
    multiprocessing's resource tracker, which outlives it."""
    script = textwrap.dedent(f"""
        import os, signal, sys
        import numpy as np
        sys.path.insert(0, {str(ROOT)!r})
        from nncore.jobs import shared_data
        X = shared_data.share(np.ones((512, 512), np.float32))
        print(shared_data.ticket_of(X)[1], flush=True)
        if {ending == "kill"!r}:
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    name = out.stdout.strip().splitlines()[0]
    path = Path(shared_data.SHM_DIR) / name.lstrip("/")
    assert wait_until(lambda: not path.exists()), f"{path} outlived its server ({ending})"


def test_when_dev_shm_is_too_small_the_block_is_a_mapped_file(monkeypatch, tmp_path):
    monkeypatch.setattr(shared_data, "shared_memory_has_room", lambda nbytes: False)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setattr(processes, "INLINE_BYTES", 0)
    X, y = (shared_data.share(a) for a in xor_signs(512))
    assert shared_data.ticket_of(X)[0] == "file"
    run = ProcessTrainer(small_network(), X, y, epochs=2, batch_size=32).start()
    assert run.join(TIMEOUT) and run.progress().state == "finished"
    assert run.data_blocks == ()
    files = list(tmp_path.iterdir())
    assert len(files) == 2
    del X, y, run           # the run keeps its data as long as it is kept
    gc.collect()
    assert list(tmp_path.iterdir()) == []
