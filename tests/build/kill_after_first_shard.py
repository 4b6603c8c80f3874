"""Child process of the kill-and-resume test: build, and SIGKILL ourselves right after the first
shard file is in place (before its manifest entry), like a power cut mid-build.

    python kill_after_first_shard.py SRC_DIR OUT_DIR
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from build_helpers import make_builder  # noqa: E402

import portraitsr4k.build.runner as runner  # noqa: E402


def main() -> None:
    real_write = runner.write_shard
    written = []

    def write_then_die(rows, path, **kwargs):
        info = real_write(rows, path, **kwargs)
        written.append(info)
        if len(written) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return info

    runner.write_shard = write_then_die
    make_builder(Path(sys.argv[1]), Path(sys.argv[2])).run()


if __name__ == "__main__":
    main()
