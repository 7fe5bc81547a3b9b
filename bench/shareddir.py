"""Where the shared material is (corpus/, scenarios/), for the Python
scripts of bench/: what bench/shared-dir.sh prints ($BW_SHARED, else
../shared next to the source tree, else next to the main worktree), so
that every script, shell or Python, finds it the same way."""
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def shared_dir():
    """The shared directory bench/shared-dir.sh names (it may not exist:
    the caller skips and names it)."""
    r = subprocess.run(["sh", os.path.join(HERE, "shared-dir.sh")], capture_output=True, text=True)
    return r.stdout.strip()
