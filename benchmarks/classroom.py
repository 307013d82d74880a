"""Does one server hold a classroom? N visitors open a shared link and press Start together.

Run by hand (never by the tests), with Chromium and Playwright installed:

    NNCORE_MNIST_DIR=/path/to/mnist python benchmarks/classroom.py [--sizes 10 20 30]

One ``streamlit run app.py`` server, started by this script as a host would start it. Its
visitors are real Chromium pages (one browser, a context per visitor, the whole browser in a
cgroup of the lowest CPU weight and its CPU counted apart: the browsers stand for the
visitors' own machines; nice alone does not hold Chromium back, see ``browser_command``). Half
of them open the seed 003 moons preset's link, half a small MNIST network's (784-32-10,
Adam, 20 epochs); all press "Start training" at once; the script waits until every run has
ended and every page shows its own result.

What it measures, per class size N:

- runs finished, and any page showing an error or an exception;
- p50 and p95 of each run's wait for a slot and of its run time, from the server's run log
  (``NNCORE_RUN_LOG``: one line per ended run, written by the scheduler);
- total wall time, from the first click to the end of the last run, against the sum of the
  runs' solo times divided by the cores (solo: each kind alone on the idle server, first);
- peak memory of the server's process tree: resident (RSS, shared pages counted once per
  process) and proportional (PSS: shared pages split between the processes that map them,
  so the sum counts the shared MNIST once), and the shared-memory blocks the tree maps;
- the server's own CPU seconds, and Chromium's;
- whether each page shows its own run (its epochs), never another visitor's;
- then every tab closes: how many training processes are left 30 s later.

A last phase checks cleanup under load: N/2 visitors start long MNIST runs, and while they
train or wait the browser is killed (every connection ends at once); it reports how long
until no training process is left and how each run ended.

The last line printed is one JSON object with every figure. Run one browser benchmark at
a time: the browsers share one cgroup (``page_throughput.BROWSER_GROUP``), and the last
phase kills whatever is in it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from page_throughput import (BROWSER_GROUP, browser_command, cpu_seconds,  # noqa: E402
                             free_port, mnist_and_chromium, start_server)

PAGE_TIMEOUT = 120_000          # ms: opening a page on a busy server
DONE = re.compile(r"Finished (\d+) epochs?")
TROUBLE = re.compile(r"Something went wrong|Training failed|could not|Traceback")


# ---------------------------------------------------------------- the server's process tree
def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_of(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(tree.get(p, []))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def training_processes(server_pid: int) -> list[int]:
    """The server's training processes: the children of its forkserver (a forked child
    keeps its parent's command line, so they are told apart by their parent)."""
    tree = _children()
    forkservers = [p for p in tree.get(server_pid, []) if "forkserver" in _cmdline(p)]
    return [child for f in forkservers for child in tree.get(f, [])]


def connections_to(port: int) -> int:
    """Established TCP connections to the server's port (its visitors' websockets)."""
    import subprocess
    out = subprocess.run(["ss", "-tnH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout  # no ss: an error
    return len(out.splitlines())


def _kib(pid: int, path: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def shm_bytes(pids) -> int:
    """Bytes in the shared-memory blocks these processes map (Python names them psm_…),
    each block once: only the server tree's, whatever else /dev/shm holds."""
    blocks = {}                         # inode → bytes (a block unlinked but mapped counts)
    for pid in pids:
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        for line in maps.splitlines():
            fields = line.split(None, 5)
            if len(fields) == 6 and "/dev/shm/psm_" in fields[5] and fields[4] not in blocks:
                try:        # the mapped file itself, through /proc (root), even if deleted
                    info = Path(f"/proc/{pid}/map_files/{fields[0]}").stat()
                except OSError:
                    continue
                blocks[fields[4]] = info.st_blocks * 512
    return sum(blocks.values())


class MemoryWatch:
    """Samples the tree's RSS, PSS and shared memory every ``every`` seconds; keeps peaks."""

    def __init__(self, server_pid: int, every: float = 0.25):
        self.server_pid, self.every = server_pid, every
        self.peak = {"rss_mb": 0.0, "pss_mb": 0.0, "shm_mb": 0.0, "processes": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.wait(self.every):
            pids = tree_of(self.server_pid)
            sample = {"rss_mb": sum(_kib(p, "status", "VmRSS:") for p in pids) / 1024,
                      "pss_mb": sum(_kib(p, "smaps_rollup", "Pss:") for p in pids) / 1024,
                      "shm_mb": shm_bytes(pids) / 2**20, "processes": len(pids)}
            for k, v in sample.items():
                self.peak[k] = max(self.peak[k], v)


# ---------------------------------------------------------------- the run log
def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_log(path: Path, count: int, timeout: float) -> list[dict]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        lines = read_log(path)
        if len(lines) >= count:
            return lines
        time.sleep(0.5)
    return read_log(path)


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# ---------------------------------------------------------------- visitors
def open_visitor(browser, url: str):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(url, timeout=PAGE_TIMEOUT)
    page.get_by_role("button", name="Start training").wait_for(timeout=PAGE_TIMEOUT)
    return context, page


PRESS_AT = """at => {
    const start = [...document.querySelectorAll('button')]
        .find(b => b.innerText.includes('Start training'));
    if (!start) throw new Error('no Start training button on this page');
    setTimeout(() => start.click(), at - Date.now());
}"""


def press_start_together(pages, lead: float = 3.0, settle: float = 1.0) -> float:
    """Every page presses Start at the same moment, ``lead`` seconds from now, each on its
    own timer. The browser has full CPU weight from now until ``settle`` seconds after
    that moment: at the lowest weight, the pages whose timers had not fired by the time
    the first runs trained fired up to 30 s late (measured), as no visitor's own machine
    would. Returns the moment."""
    weight = BROWSER_GROUP / "cpu.shares"
    lowest = weight.read_text().strip()
    weight.write_text("1024")
    try:
        at = time.time() + lead
        for page in pages:
            page.evaluate(PRESS_AT, at * 1000)
        if time.time() > at:
            print(f"warning: setting the clicks took over {lead:.0f} s; they are spread out",
                  flush=True)
        time.sleep(max(0.0, at + settle - time.time()))
    finally:
        weight.write_text(lowest)
    return at


def page_outcome(page) -> tuple[int | None, str | None]:
    """(epochs the page says its run finished, a trouble sentence on the page or None)."""
    text = page.inner_text("body")
    found = DONE.search(text)
    trouble = TROUBLE.search(text)
    exceptions = page.locator('[data-testid="stException"]').count()
    problem = trouble.group(0) if trouble else ("exception" if exceptions else None)
    return (int(found.group(1)) if found else None), problem


def wait_for_pages(pages, timeout: float) -> list[tuple[int | None, str | None]]:
    end = time.monotonic() + timeout
    outcomes = [(None, None)] * len(pages)
    while time.monotonic() < end:
        outcomes = [page_outcome(p) for p in pages]
        if all(epochs is not None or problem for epochs, problem in outcomes):
            break
        time.sleep(1.0)
    return outcomes


# ---------------------------------------------------------------- the setups
def setups():
    from lab.links import query_string, spec_to_params
    from nncore.runs.presets import get_preset
    from nncore.runs.spec import LayerSpec, RunSpec

    moons = get_preset("seed003-moons").run_spec()
    # The small network (784-32-10, Adam) took 6.4 s for 2 epochs when it was
    # written; it takes 0.4 s now, so that 30 clicks would take longer than all the runs
    # together. 20 epochs (about 4 s alone) keep the runs, not the clicking, the measure.
    mnist = RunSpec(data={"name": "mnist"}, hidden=[LayerSpec(32)],
                    optimizer={"name": "adam", "lr": 0.001}, batch_size=64, epochs=20, seed=0)
    long_mnist = mnist.replace(epochs=200)
    link = lambda spec: "/training?" + query_string(spec_to_params(spec))   # noqa: E731
    return {"moons": (link(moons), moons.epochs), "mnist": (link(mnist), mnist.epochs),
            "long-mnist": (link(long_mnist), long_mnist.epochs)}


def class_round(browser, base: str, n: int, links, log: Path, server_pid: int, solo: dict,
                cores: int) -> dict:
    kinds = ["moons" if i % 2 == 0 else "mnist" for i in range(n)]
    visitors = [open_visitor(browser, base + links[k][0]) for k in kinds]
    pages = [page for _, page in visitors]
    before = len(read_log(log))
    server_cpu, _, browser_cpu = cpu_seconds(server_pid)
    with MemoryWatch(server_pid) as memory:
        clicked = press_start_together(pages)
        lines = wait_for_log(log, before + n, timeout=60 * 30)[before:]
        outcomes = wait_for_pages(pages, timeout=60)
    server_cpu2, _, browser_cpu2 = cpu_seconds(server_pid)
    ended = max(line["submitted"] + line["wait_seconds"] + line["run_seconds"] for line in lines)
    wall = ended - clicked
    solo_sum = sum(solo[k] for k in kinds)
    own = sum(1 for k, (epochs, _) in zip(kinds, outcomes) if epochs == links[k][1])
    # a page without its own result: nothing yet (None), or another run's epochs (a leak)
    not_own = [{"kind": k, "epochs_shown": epochs} for k, (epochs, _) in zip(kinds, outcomes)
               if epochs != links[k][1]]
    problems = [problem for _, problem in outcomes if problem]
    for context, _ in visitors:
        context.close()
    closed = time.monotonic()
    left = training_processes(server_pid)
    while left and time.monotonic() - closed < 30:
        time.sleep(0.5)
        left = training_processes(server_pid)
    waits = [line["wait_seconds"] for line in lines]
    runs = [line["run_seconds"] for line in lines]
    return {
        "N": n, "finished": sum(line["state"] == "finished" for line in lines),
        "pages_with_their_own_result": own, "pages_without_it": not_own,
        "page_problems": problems,
        "submitted_spread_seconds": max(line["submitted"] for line in lines)
        - min(line["submitted"] for line in lines),
        "wait_p50": percentile(waits, 0.5), "wait_p95": percentile(waits, 0.95),
        "run_p50": percentile(runs, 0.5), "run_p95": percentile(runs, 0.95),
        "wall_seconds": wall, "solo_sum_over_cores": solo_sum / cores,
        "wall_ratio": wall / (solo_sum / cores),
        "peak_rss_mb": memory.peak["rss_mb"], "peak_pss_mb": memory.peak["pss_mb"],
        "peak_shm_mb": memory.peak["shm_mb"], "peak_processes": memory.peak["processes"],
        "server_cpu_seconds": server_cpu2 - server_cpu,
        "browser_cpu_seconds": browser_cpu2 - browser_cpu,
        "training_processes_left_30s_after_close": len(left),
    }


def abandon_round(browser, base: str, n: int, links, log: Path, server_pid: int,
                  port: int) -> dict:
    """n visitors start long runs (some train, the rest wait), then every visitor's machine
    drops off at once: the browser is killed, as a class closing its laptops would end its
    connections. How long until no training process is left, and how each run ended (a
    200-epoch run takes about 40 s alone: none should finish). The browser is gone after."""
    visitors = [open_visitor(browser, base + links["long-mnist"][0]) for _ in range(n)]
    before = len(read_log(log))
    press_start_together([page for _, page in visitors])
    time.sleep(5)                        # let the first runs train for a while
    busy = len(training_processes(server_pid))
    # A killed process still needs the CPU to exit, which a browser at the lowest weight
    # beside two training processes gets seconds late: its connections would stay open for
    # 4–40 s (measured) and time the browser, not the server. Full weight for its last act.
    (BROWSER_GROUP / "cpu.shares").write_text("1024")
    gone_at = time.time()
    for pid in (BROWSER_GROUP / "cgroup.procs").read_text().split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
    connections_closed = None
    while training_processes(server_pid) and time.time() - gone_at < 300:
        if connections_closed is None and not connections_to(port):
            connections_closed = time.time() - gone_at
        time.sleep(0.5)
    no_training = time.time() - gone_at
    lines = wait_for_log(log, before + n, timeout=60)[before:]
    states = {}
    for line in lines:
        states[line["state"]] = states.get(line["state"], 0) + 1
    last_end = max((line["submitted"] + line["wait_seconds"] + line["run_seconds"]
                    for line in lines), default=float("nan"))
    return {"N": n, "training_when_gone": busy,
            "seconds_until_the_connections_closed":
                None if connections_closed is None else round(connections_closed, 1),
            "seconds_until_no_training_process": round(no_training, 1),
            "seconds_from_the_connections_closing_to_no_training_process":
                None if connections_closed is None else round(no_training - connections_closed, 1),
            "seconds_until_the_last_run_ended": round(last_end - gone_at, 1),
            "left": len(training_processes(server_pid)), "runs_ended": states}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30])
    p.add_argument("--solo-rounds", type=int, default=2)
    p.add_argument("--abandon", type=int, help="visitors in the last phase (default: half the "
                                                "largest size)")
    p.add_argument("--data-dir", help="MNIST IDX folder (default: $NNCORE_MNIST_DIR)")
    args = p.parse_args(argv)
    data_dir = mnist_and_chromium(args.data_dir)
    from playwright.sync_api import sync_playwright

    from nncore.jobs.scheduler import machine_cores

    work = Path(tempfile.mkdtemp(prefix="classroom-"))
    log = work / "runs.jsonl"
    server_log = open(work / "server.log", "w")
    env = dict(os.environ, NNCORE_MNIST_DIR=str(Path(data_dir).resolve()), NNCORE_OFFLINE="1",
               NNCORE_RUN_LOG=str(log), NNCORE_CACHE_DIR=str(work / "cache"))
    port = free_port()
    server = start_server(port, env, server_log)
    base = f"http://127.0.0.1:{port}"
    links = setups()
    cores = machine_cores()
    print(f"one server on {cores} cores; sizes {args.sizes}; logs in {work}", flush=True)
    results = {"cores": cores, "rounds": [], "solo": {}}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=browser_command(19, 0, lowest=True), args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-renderer-backgrounding", "--disable-background-timer-throttling"])
            # Solo: each kind alone on the idle server (the first MNIST load warms the cache).
            for kind in ("moons", "mnist"):
                times = []
                for _ in range(args.solo_rounds + (kind == "mnist")):
                    before = len(read_log(log))
                    context, page = open_visitor(browser, base + links[kind][0])
                    page.get_by_role("button", name="Start training").click()
                    line = wait_for_log(log, before + 1, 600)[before]
                    times.append(line["run_seconds"])
                    wait_for_pages([page], 60)
                    context.close()
                results["solo"][kind] = statistics.median(times[-args.solo_rounds:])
                print(f"solo {kind}: {results['solo'][kind]:.2f} s (runs {times})", flush=True)
            for n in args.sizes:
                r = class_round(browser, base, n, links, log, server.pid, results["solo"], cores)
                results["rounds"].append(r)
                print(f"N={n}: {r['finished']}/{n} finished, {r['pages_with_their_own_result']} "
                      f"pages show their own result {r['pages_without_it'] or ''}, problems "
                      f"{r['page_problems'] or 'none'}; submitted within "
                      f"{r['submitted_spread_seconds']:.2f} s; wait p50 {r['wait_p50']:.1f} s "
                      f"p95 {r['wait_p95']:.1f} s; run p50 "
                      f"{r['run_p50']:.1f} s p95 {r['run_p95']:.1f} s; wall {r['wall_seconds']:.1f} s"
                      f" = {r['wall_ratio']:.2f} × (solo sum ÷ cores = "
                      f"{r['solo_sum_over_cores']:.1f} s); peak RSS {r['peak_rss_mb']:.0f} MB, "
                      f"PSS {r['peak_pss_mb']:.0f} MB, shm {r['peak_shm_mb']:.0f} MB, "
                      f"{r['peak_processes']} processes; server CPU "
                      f"{r['server_cpu_seconds']:.1f} s, Chromium {r['browser_cpu_seconds']:.1f} s;"
                      f" left 30 s after closing: {r['training_processes_left_30s_after_close']}",
                      flush=True)
            half = args.abandon or max(1, max(args.sizes) // 2)
            results["abandon"] = abandon_round(browser, base, half, links, log, server.pid, port)
            print(f"abandoned: {results['abandon']}", flush=True)
        server_log.flush()
        results["server_tracebacks"] = (work / "server.log").read_text().count("Traceback")
        print(f"tracebacks in the server log: {results['server_tracebacks']}")
    finally:
        server.terminate()
        try:
            server.wait(15)
        except Exception:            # noqa: BLE001 — a stuck server is killed
            server.kill()
    after = training_processes(server.pid)
    results["processes_after_server_exit"] = len(after)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
