"""The trigger: wait until the batch in Label Studio is labelled, then run the workflow on
to the next batch, and again, until the last iteration is done.

Label Studio rings a webhook receiver on 127.0.0.1 at every answer; a poll every few
seconds covers a webhook that cannot be registered (a remote server, SSRF protection) or
a missed call. Ctrl-C stops the workflow run in progress and the watch, cleanly.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from alspec import layout
from alspec.errors import Unavailable, WorkflowFailed
from alspec.io import read_json

logger = logging.getLogger(__name__)

ACTIONS = ["ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED"]
# the most Ctrl-C waits for Label Studio to remove a webhook
CLOSING = {"timeout_in_seconds": 10, "max_retries": 0}


@dataclass(frozen=True)
class Workflow:
    """The Snakemake command a user would type, in the folder holding `results/`, and the
    config files it reads (after the targets: Snakemake's --configfile takes a list)."""

    command: tuple[str, ...]
    configfiles: tuple[str, ...]
    results: Path
    iterations: int

    def receipts(self) -> list[Path]:
        """Every pushed batch's receipt, oldest first."""
        found = [f / layout.RECEIPT for f in layout.iteration_folders(self.results, layout.RECEIPT)]
        first = layout.under(self.results, layout.COLD_START) / layout.RECEIPT
        return ([first] if first.exists() else []) + found

    def pending(self) -> Path | None:
        """The receipt of the batch pushed but not yet pulled, if any."""
        waiting = [r for r in self.receipts() if not (r.parent / layout.ANSWERS).exists()]
        return waiting[0] if waiting else None

    def targets(self, batch: str) -> list[str]:
        """What to build once `batch` is answered: its iteration's metrics and record and
        the next batch; after the last batch, the whole workflow (its default target)."""
        n = -1 if batch == layout.COLD_START_BATCH else int(batch.split("/")[-1])
        if n + 1 >= self.iterations:
            return []
        return layout.iteration_targets(n)

    def start(self, targets: Sequence[str]) -> subprocess.Popen:
        """Start Snakemake on `targets`."""
        command = [*self.command, *targets, "--configfile", *self.configfiles]
        logger.info(f"watch: running {' '.join(command)}")
        return subprocess.Popen(command)


class Doorbell:
    """A webhook receiver on 127.0.0.1: every call from Label Studio rings it."""

    def __init__(self, port: int) -> None:
        self.rung = threading.Event()
        bell = self.rung

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.end_headers()
                bell.set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.hooks: dict[int, tuple[object, int]] = {}  # project -> (client, webhook id)

    def listen_to(self, receipt: dict, token_file: str | Path) -> None:
        """Ask the batch's project to call this receiver; say so if it refuses."""
        # the SDK only where a batch is in Label Studio (its import costs about 1 s)
        from alspec.oracles import labelstudio

        if receipt["project"] in self.hooks:
            return
        client = labelstudio.connect(receipt["url"], token_file)
        try:
            hook = client.webhooks.create(
                url=self.url, project=receipt["project"], send_payload=False, actions=ACTIONS
            )
        except Exception as error:  # any refusal (403 SSRF, 404 edition): polling goes on
            logger.warning(f"watch: Label Studio refused the webhook ({error}); polling instead")
            return
        self.hooks[receipt["project"]] = (client, hook.id)

    def wait(self, seconds: float) -> None:
        self.rung.wait(seconds)
        self.rung.clear()

    def close(self) -> None:
        """Remove the webhooks (a server that does not answer within CLOSING is left with
        a hook to a closed port, which it then reports) and stop listening."""
        for client, hook in self.hooks.values():
            try:
                client.webhooks.delete(id=hook, request_options=CLOSING)
            except Exception as error:  # the server may be gone: the hook dies with it
                logger.warning(f"watch: could not remove webhook {hook}: {error}")
        self.server.shutdown()
        self.server.server_close()


class CtrlC:
    """Ctrl-C for the watch: SIGINT's handler only notes it, rings the bell and passes it
    on to a running workflow; the loop stops where it next looks. Python's own handling,
    KeyboardInterrupt raised wherever the main thread is, was lost when it landed in
    pydantic's serializer while the SDK read Label Studio's tasks: the watch then slept
    through its whole poll (seen in one of five runs of its test)."""

    def __init__(self, bell: Doorbell) -> None:
        self.pressed = threading.Event()
        self.bell = bell
        self.workflow: subprocess.Popen | None = None

    def __enter__(self) -> CtrlC:
        self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def __exit__(self, *_: object) -> None:
        signal.signal(signal.SIGINT, self.previous)

    def handle(self, signum: int, frame: object) -> None:
        self.pressed.set()
        self.bell.rung.set()
        if self.workflow is not None and self.workflow.poll() is None:
            self.workflow.send_signal(signal.SIGINT)  # it stops its jobs and cleans up

    def run(self, workflow: Workflow, targets: Sequence[str]) -> int:
        """Run the workflow to its end (or to its clean stop on Ctrl-C): its exit status."""
        self.workflow = workflow.start(targets)
        if self.pressed.is_set():  # pressed as it started
            self.workflow.send_signal(signal.SIGINT)
        try:
            return self.workflow.wait()
        finally:
            self.workflow = None


def wait_until_labelled(
    receipt: dict, token_file: str | Path, bell: Doorbell, poll_seconds: float, stop: CtrlC
) -> None:
    """Return once every task of the batch has an answer, reporting progress, or once
    Ctrl-C is pressed."""
    from alspec.oracles import labelstudio  # the SDK: see Doorbell.listen_to

    page, last = labelstudio.labelling_page(receipt), None
    while not stop.pressed.is_set():
        try:
            answered, total = labelstudio.progress(receipt, token_file)
        except Unavailable as error:  # a restart: try again later
            logger.warning(f"watch: {error}; trying again in {poll_seconds:g} s")
            answered, total = last, len(receipt["tasks"])
        if answered == total:
            return
        if answered != last and answered is not None:
            stamp = time.strftime("%H:%M:%S")
            logger.info(
                f"watch {stamp}: batch {receipt['batch']}: {answered} of {total} labelled at {page}"
            )
            last = answered
        bell.wait(poll_seconds)


def run_until_done(
    workflow: Workflow, token_file: str | Path, poll_seconds: float, port: int = 0
) -> None:
    """Answered batch -> workflow run -> next batch, until no batch is left to answer.
    Ctrl-C stops the workflow run in progress and the watch: KeyboardInterrupt, once the
    webhooks are removed."""
    bell = Doorbell(port)
    with CtrlC(bell) as stop:
        try:
            watch_batches(workflow, token_file, poll_seconds, bell, stop)
        finally:
            bell.close()
    if stop.pressed.is_set():
        raise KeyboardInterrupt


def watch_batches(
    workflow: Workflow, token_file: str | Path, poll_seconds: float, bell: Doorbell, stop: CtrlC
) -> None:
    """The loop of run_until_done, until the last iteration is done or Ctrl-C."""
    while not stop.pressed.is_set():
        receipt_path = workflow.pending()
        if receipt_path is not None:
            receipt = read_json(receipt_path)
            if receipt["backend"] == "labelstudio":
                bell.listen_to(receipt, token_file)
                wait_until_labelled(receipt, token_file, bell, poll_seconds, stop)
                if stop.pressed.is_set():
                    return
            targets = workflow.targets(receipt["batch"])
        else:
            targets = []
        status = stop.run(workflow, targets)
        if stop.pressed.is_set():
            return
        now_pending = workflow.pending()
        if status == 0 and now_pending is None and not targets:
            n = workflow.iterations
            logger.info(f"watch: all {n} iteration{'s' * (n != 1)} done")
            return
        if status != 0 and now_pending == receipt_path:
            raise WorkflowFailed(
                f"the workflow failed (exit {status}, see above); fix it and run "
                "`alspec watch` again"
            )
