"""TensorFlow's C++ core writes notices straight to the process's stderr, before its own
logging is set up, so TF_CPP_MIN_LOG_LEVEL does not reach them; every step that loads
TensorFlow (train, predict, and features through umap) printed them. Each dropped here
is harmless, and says so below; anything else written to stderr passes on unchanged.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator

HARMLESS = re.compile(
    rb"|".join(
        [
            # absl's notice that it logs to stderr until initialised (TensorFlow never does)
            rb"WARNING: All log messages before absl::InitializeLog\(\) is called",
            # oneDNN computes in another order than Eigen: float round-off, no more
            rb"[IWE]\d{4} .*port\.cc:\d+\] oneDNN custom operations are on",
            # which CPU instructions the binary uses: information only
            rb"[IWE]\d{4} .*cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized",
            # Keras's data pipeline names an attribute this TensorFlow ignores, as it says
            rb"[IWE]\d{4} .*node_def_util\.cc:\d+\] NodeDef mentions attribute \w+ which is not",
        ]
    )
)
# A write that may be the start of such a notice is held until its line ends.
NOTICE_START = re.compile(rb"(WARNING: All log|[IWE]\d{4} )")
DRAIN_SECONDS = 5.0  # to pass on what is left once the block ends


@contextlib.contextmanager
def native_notices_dropped() -> Iterator[None]:
    """Within the block, stderr (file descriptor 2, which C++ libraries and child
    processes write to) is read by a thread that passes on all but HARMLESS lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)
    forwarder = threading.Thread(target=_forward, args=(read, saved), daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last writer gone: the thread reads to its end
        forwarder.join(DRAIN_SECONDS)
        os.close(saved)


def _forward(read: int, target: int) -> None:
    held = b""
    with os.fdopen(read, "rb", buffering=0) as pipe:
        while chunk := pipe.read(1 << 16):
            *lines, held = (held + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not HARMLESS.search(line))
            if held and not NOTICE_START.match(held):  # a progress bar's \r update, say
                kept, held = kept + held, b""
            if kept:
                os.write(target, kept)
    if held and not HARMLESS.search(held):
        os.write(target, held)
