"""Does the Training page keep the command line's speed? (issue: ≥ 85 % of the CLI)

Run by hand (never by the tests), on a machine that is otherwise quiet, with Chromium and
Playwright installed (``requirements-dev.txt``; ``apt-get install chromium``):

    NNCORE_MNIST_DIR=/path/to/mnist python benchmarks/page_throughput.py [--rounds 5] [--epochs 10]

Each round trains the same configuration twice, one after the other:

1. ``python -m nncore train --preset mnist-mlp --epochs E --json --quiet`` — the CLI;
2. the app in Chromium: a Streamlit server started by this script, the page opened with
   the preset's share link, "Start training" clicked, every chart on screen and updating,
   until the page says the run finished.

Both report the median training seconds per epoch (the same ``History.seconds`` figure:
training time only, evaluation excluded); throughput is the number of training digits
(54,000: the preset keeps 10 % for validation) divided by it. The CLI and the
page take turns so that load coming and going hits them alike. For each page run it
prints the CPU used from Start to the end by the Streamlit server itself, by its
training process and by Chromium; at the end, the ratio of the medians and the ratio
round by round. This machine's speed comes and goes: judge by many rounds, not one.
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PRESET = "mnist-mlp"
CHROMIUM = "/usr/bin/chromium"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def cpu_seconds(server_pid: int) -> tuple[float, float, float]:
    """CPU seconds used so far by the Streamlit server itself, by the processes under it
    (the training runs in one), and by all Chromium processes (Linux /proc; zeros
    elsewhere): where the page's time goes besides training."""
    proc = Path("/proc")
    if not proc.exists():
        return 0.0, 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    parents, used, browser = {}, {}, 0.0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        # own time plus that of finished children it has reaped (a finished training run)
        used[pid] = sum(int(f) for f in fields[11:15]) / tick
        if b"chrom" in command.split(b"\0")[0]:
            browser += used[pid]

    def under_server(pid):
        pid = parents.get(pid, 0)
        while pid > 1:
            if pid == server_pid:
                return True
            pid = parents.get(pid, 0)
        return False

    below = sum(seconds for pid, seconds in used.items() if under_server(pid))
    return used.get(server_pid, 0.0), below, browser


def mnist_and_chromium(data_dir: str | None) -> str:
    """The MNIST folder (``--data-dir``, else ``$NNCORE_MNIST_DIR``), once both it and
    Chromium are known to be there; else the script stops, saying what is missing."""
    data_dir = data_dir or os.environ.get("NNCORE_MNIST_DIR")
    if not data_dir:
        raise SystemExit("error: no MNIST: set NNCORE_MNIST_DIR or pass --data-dir DIR.")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"error: no Chromium at {CHROMIUM} (apt-get install chromium).")
    return data_dir


BROWSER_GROUP = Path("/sys/fs/cgroup/cpu/nnlab-browser")     # cgroup v1: needs root


def browser_command(nice: int, cpu_percent: int, lowest: bool = False) -> str:
    """Chromium itself, or a wrapper script that starts it niced, in a CPU-capped cgroup,
    and/or (``lowest``) in a cgroup of the lowest CPU weight.

    Nice alone does not hold Chromium back: run as root, it sets its own processes'
    priorities (measured here: the browser process at nice −8, renderers at 0 and 5,
    whatever it was started with). A cgroup's weight (cpu.shares = 2, against 1024 for
    everything else) holds whatever its processes do to their nice values."""
    if not nice and not cpu_percent and not lowest:
        return CHROMIUM
    lines = ["#!/bin/sh"]
    if cpu_percent or lowest:
        group = BROWSER_GROUP
        try:
            group.mkdir(exist_ok=True)
            (group / "cpu.cfs_period_us").write_text("100000")
            (group / "cpu.cfs_quota_us").write_text(str(1000 * cpu_percent) if cpu_percent
                                                    else "-1")
            (group / "cpu.shares").write_text("2" if lowest else "1024")
        except OSError as exc:
            raise SystemExit(f"error: cannot put the browser in a cgroup ({exc}); this needs "
                             "root and a cgroup v1 cpu controller at /sys/fs/cgroup/cpu.")
        lines.append(f"echo $$ > {group}/cgroup.procs")
    lines.append(f'exec nice -n {nice} {CHROMIUM} "$@"')
    wrapper = Path(tempfile.mkdtemp()) / "chromium"
    wrapper.write_text("\n".join(lines) + "\n")
    wrapper.chmod(0o755)
    return str(wrapper)


def wait_until_idle(server_pid: int, limit: float = 60.0) -> None:
    """Wait until the server has stopped working on the last page (the end of a run
    rerenders it with the trained network's analysis), so that the next CLI round does not
    share the CPU with it."""
    end = time.perf_counter() + limit
    while time.perf_counter() < end:
        before = sum(cpu_seconds(server_pid)[:2])
        time.sleep(1.0)
        if sum(cpu_seconds(server_pid)[:2]) - before < 0.05:
            return


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_run(epochs: int, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-m", "nncore", "train", "--preset", PRESET,
                          "--epochs", str(epochs), "--json", "--quiet"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def streamlit_command(port: int, script: str = "app.py") -> list[str]:
    """How every benchmark starts a Streamlit server, as a host would: headless, on
    127.0.0.1, no file watcher, no usage statistics."""
    return [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]


def start_server(port: int, env: dict, log=None, cwd: Path = ROOT) -> subprocess.Popen:
    """The app in ``cwd`` served on ``port`` (its output to ``log``, a file, or nowhere),
    once it answers its health check; an error if it dies or has not within 60 s."""
    import urllib.request
    out = log if log is not None else subprocess.DEVNULL
    server = subprocess.Popen(streamlit_command(port), cwd=cwd, env=env, stdout=out,
                              stderr=subprocess.STDOUT)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"error: the Streamlit server exited with code {server.returncode}.")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("error: the Streamlit server did not start within 60 s.")


def page_seconds_per_epoch(page, url: str, on_start, timeout: float = 1200) -> tuple[float, str]:
    """Open the link, go to Training, start, wait for the end; the page's own median.
    ``on_start()`` is called the moment "Start training" has been clicked."""
    page.goto(url)
    nav = page.get_by_test_id("stSidebarNavLink").filter(has_text="Training")
    nav.wait_for(timeout=60_000)
    nav.click()
    start = page.get_by_role("button", name="Start training")
    start.wait_for(timeout=120_000)
    time.sleep(1)
    start.click()
    on_start()
    done = page.get_by_text(re.compile(r"Finished \d+ epoch|diverged|Training failed"))
    done.wait_for(timeout=timeout * 1000)
    text = done.first.inner_text().replace("\n", " ")
    found = re.search(r"median ([0-9.]+) s per epoch", text)
    if not found:
        raise SystemExit(f"error: the page did not report a median: {text!r}")
    return float(found.group(1)), text


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=10, help="default: the preset's own 10")
    p.add_argument("--browser-nice", type=int, default=0,
                   help="run Chromium at this nice level (19: lowest priority)")
    p.add_argument("--browser-cpu", type=int, default=0, metavar="PERCENT",
                   help="cap Chromium at PERCENT of one core (Linux cgroup v1, as root), "
                        "standing in for a browser on the user's own machine as with the "
                        "hosted demo: the server still does all its work for the page")
    p.add_argument("--data-dir", help="folder of the four MNIST IDX .gz files "
                   "(default: $NNCORE_MNIST_DIR)")
    args = p.parse_args(argv)
    data_dir = mnist_and_chromium(args.data_dir)
    from playwright.sync_api import sync_playwright

    from lab.links import query_string, spec_to_params
    from nncore.runs.presets import get_preset

    env = dict(os.environ, NNCORE_MNIST_DIR=str(Path(data_dir).resolve()))
    spec = get_preset(PRESET).run_spec().replace(epochs=args.epochs)
    chromium = browser_command(args.browser_nice, args.browser_cpu)
    port = free_port()
    url = f"http://127.0.0.1:{port}/?{query_string(spec_to_params(spec))}"
    cap = f", capped at {args.browser_cpu} % of a core" if args.browser_cpu else ""
    print(f"{PRESET}, {args.epochs} epochs, {args.rounds} rounds, Chromium at nice "
          f"{args.browser_nice}{cap}; load {load()}", flush=True)
    server = start_server(port, env)
    cli, page, cpu = [], [], []
    try:
        with sync_playwright() as pw:
            for r in range(1, args.rounds + 1):
                # the CLI runs with no browser alive, as a command-line user's would
                wait_until_idle(server.pid)
                result = cli_run(args.epochs, env)
                cli.append(float(result["seconds_per_epoch"]))
                n_train = int(result["n_train"])
                print(f"round {r}: CLI  {cli[-1]:.3f} s/epoch   (load {load()})", flush=True)
                browser = pw.chromium.launch(executable_path=chromium,
                                             args=["--no-sandbox", "--disable-gpu"])
                tab = browser.new_page(viewport={"width": 1400, "height": 1800})
                marks = {}

                def started():
                    marks["cpu"], marks["t0"] = cpu_seconds(server.pid), time.perf_counter()

                seconds, text = page_seconds_per_epoch(tab, url, started)
                before, t0 = marks["cpu"], marks["t0"]
                after, wall = cpu_seconds(server.pid), time.perf_counter() - t0
                browser.close()
                page.append(seconds)
                cpu.append({"wall": wall, "server": after[0] - before[0],
                            "training_process": after[1] - before[1],
                            "browser": after[2] - before[2]})
                print(f"round {r}: page {page[-1]:.3f} s/epoch   (load {load()})  {text}",
                      flush=True)
                print(f"         from Start to the end of the run ({wall:.1f} s): server "
                      f"{cpu[-1]['server']:.1f} CPU-s, its training process "
                      f"{cpu[-1]['training_process']:.1f} CPU-s, Chromium "
                      f"{cpu[-1]['browser']:.1f} CPU-s", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    cli_s, page_s = statistics.median(cli), statistics.median(page)
    print(f"\nmedian over rounds: CLI {cli_s:.3f} s/epoch ({n_train / cli_s:,.0f} samples/s), "
          f"page {page_s:.3f} s/epoch ({n_train / page_s:,.0f} samples/s): "
          f"page keeps {cli_s / page_s:.0%} of the CLI's throughput (target ≥ 85 %)")
    print("page ÷ CLI round by round: " + ", ".join(f"{c / q:.0%}" for c, q in zip(cli, page)))
    print(json.dumps({"preset": PRESET, "epochs": args.epochs, "browser_nice": args.browser_nice,
                      "browser_cpu_percent": args.browser_cpu,
                      "cli_seconds_per_epoch": cli,
                      "page_seconds_per_epoch": page, "page_cpu_seconds": cpu, "ratio": cli_s / page_s,
                      "load_end": load()}))


if __name__ == "__main__":
    main()
