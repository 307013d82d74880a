"""Data held once per server, in memory that every training process maps instead of copying.

A web server that trains each visitor's run in a child process must get the data set to
that child. Copying it per run costs a data set's size per run (MNIST: 220 MB, ten runs:
2.2 GB). Instead, ``share(array)`` moves an array into a shared-memory block once and
returns a read-only view of it; the server keeps and reads that view as its data set, and
``ticket_of(view)`` gives what a child needs to map the same pages — no copy at all:

    X = share(load_mnist()[0])        # (60000, 784) float32, now in /dev/shm, read-only
    ticket_of(X)                      # ("shm", "psm_1a2b…", (60000, 784), "<f4")
    ticket_of(X[:100])                # None: only whole shared arrays have a ticket

A block lives as long as its view: when the last reference to the view goes (a data set
dropped from the server's cache), the block is unlinked; whatever is left at exit is
unlinked then, and multiprocessing's resource tracker removes blocks of a server that was
killed. Where /dev/shm is too small (containers often give it 64 MB), the block is a
memory-mapped temporary file instead, with the same life.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import threading
import weakref
from multiprocessing import shared_memory

import numpy as np

SHM_DIR = "/dev/shm"   # where Linux keeps shared memory


def shared_memory_has_room(nbytes: int) -> bool:
    """Writing past the end of a too-small /dev/shm kills the process (SIGBUS) instead of
    raising an error, so look first. Elsewhere (macOS, Windows) there is no such folder."""
    import shutil
    if not os.path.isdir(SHM_DIR):
        return True
    return shutil.disk_usage(SHM_DIR).free >= 2 * nbytes   # room to spare for others


class Block:
    """One array's pages in shared memory — or in a memory-mapped temporary file where
    /dev/shm is too small — written once. ``ticket`` is what another process needs to map
    them (``attach``); ``open_view()`` is an array over them in this process, for whoever
    asks (the block keeps none: a view into the pages must go before they close);
    ``remove()`` unlinks them (the pages go once no process maps them any more)."""

    # Sessions start runs at the same moment: look for room and take it in one step, so
    # that two of them cannot both count on the same free space.
    _creating = threading.Lock()

    def __init__(self, array):
        array = np.ascontiguousarray(array)
        self._shm, self._path = None, None
        layout = (array.shape, array.dtype.str)
        with self._creating:
            if shared_memory_has_room(array.nbytes):
                self._shm = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
                self.ticket = ("shm", self._shm.name) + layout
            else:
                fd, self._path = tempfile.mkstemp(prefix="nncore-data-", suffix=".npy")
                os.close(fd)
                self.ticket = ("file", self._path) + layout
        try:
            if self._shm is not None:
                pages = np.ndarray(array.shape, array.dtype, buffer=self._shm.buf)
            else:
                pages = np.lib.format.open_memmap(self._path, mode="w+",
                                                  dtype=array.dtype, shape=array.shape)
            pages[...] = array
            del pages
        except BaseException:           # a block half made is removed, not left behind
            self.remove()
            raise

    def open_view(self) -> np.ndarray:
        """An array over the block's pages in this process (no copy)."""
        shape, dtype = self.ticket[2], np.dtype(self.ticket[3])
        if self._shm is not None:
            return np.ndarray(shape, dtype, buffer=self._shm.buf)
        return np.load(self._path, mmap_mode="r")

    def remove(self) -> None:
        try:
            if self._shm is not None:
                try:
                    self._shm.close()
                except BufferError:     # someone's view is still alive: its end unmaps it
                    pass
                self._shm.unlink()
            elif self._path is not None:
                os.remove(self._path)
        except OSError:                 # already gone, or (Windows) still mapped elsewhere
            pass
        self._shm = self._path = None


def attach(ticket):
    """(what to keep alive while the array is used, the array) in another process: the
    same pages as the ``Block`` the ticket came from, no copy. ("inline" tickets carry a
    small array itself.)"""
    if ticket[0] == "inline":
        return None, ticket[1]
    kind, where, shape, dtype = ticket
    if kind == "file":
        array = np.load(where, mmap_mode="r")
        return array, array
    block = shared_memory.SharedMemory(name=where)
    return block, np.ndarray(shape, np.dtype(dtype), buffer=block.buf)


_lock = threading.Lock()
_blocks: dict[int, tuple[weakref.ref, tuple]] = {}   # id(view) -> (weak view, ticket)
_live: dict[int, Block] = {}                         # id(view) -> its block, until removed


def share(array) -> np.ndarray:
    """A read-only copy of ``array`` in shared memory, for every process to map (see the
    module docstring). Sharing an array that is already shared returns it as it is."""
    array = np.ascontiguousarray(array)
    if ticket_of(array) is not None:
        return array
    block = Block(array)
    view = block.open_view()
    view.flags.writeable = False
    key = id(view)
    with _lock:
        _blocks[key] = (weakref.ref(view), block.ticket)
        _live[key] = block
    # When the view goes, so do the pages. The finalizer holds the block, not the view.
    weakref.finalize(view, _forget, key)
    return view


def ticket_of(array) -> tuple | None:
    """What a child process needs to map ``array`` (``share``'s result), or None when it
    is not a shared array."""
    with _lock:
        entry = _blocks.get(id(array))
    if entry is None or entry[0]() is not array:
        return None
    return entry[1]


def _forget(key: int) -> None:
    with _lock:
        _blocks.pop(key, None)
        block = _live.pop(key, None)
    if block is not None:
        block.remove()


@atexit.register
def _remove_all() -> None:
    for key in list(_live):
        _forget(key)
