"""Running an exported script as a learner runs it: in a subprocess of its own, in isolated
mode, with nncore and the app made unimportable whatever is installed — so the script has
to stand on NumPy (and scikit-learn for the data) alone."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

WITHOUT_NNCORE = """
import runpy, sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("nncore", "lab"):
            raise ImportError(f"the exported script imported {name}")
sys.meta_path.insert(0, Refuse())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def started(path, *args, env=None) -> subprocess.Popen:
    """The script started (``args`` on its command line); the caller can work meanwhile."""
    return subprocess.Popen([sys.executable, "-I", "-c", WITHOUT_NNCORE, str(path), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(path).parent, env={**os.environ, **(env or {})})


def finished(proc: subprocess.Popen) -> tuple[list[float], dict, str]:
    """(its epoch losses, its last line's JSON, its whole output), once it has ended well."""
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr[-3000:]
    losses = [float(x) for x in re.findall(r"^epoch \d+/\d+: loss (\S+)$", stdout, re.M)]
    return losses, json.loads(stdout.strip().splitlines()[-1]), stdout
