"""Progress of a run: a live table on a terminal, periodic plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import IO, Any, Protocol

from motools.engine._records import StepRun
from motools.workflow._plan import Plan


class RunObserver(Protocol):
    """Receives the plan once, then every node's StepRun as it settles."""

    def started(self, plan: Plan) -> None: ...
    def settled(self, step_run: StepRun) -> None: ...


class ProgressDisplay:
    """Per step: total, done (ran now), cached, failed, skipped, running (ready or executing).

    On a terminal it is a live rich table; elsewhere (CI logs, `ray job submit`) it prints one
    summary line at most every `interval` seconds and one at the end.

    Args:
        stream: Where to draw (default stderr, so stdout stays for results).
        live: Force the live table on or off (default: on when the stream is a terminal).
        interval: Seconds between plain lines.
    """

    def __init__(self, stream: IO[str] | None = None, live: bool | None = None,
                 interval: float = 10.0) -> None:
        self._stream = stream or sys.stderr
        self._live_wanted = self._stream.isatty() if live is None else live
        self._interval = interval
        self._plan: Plan | None = None
        self._status: dict[str, str] = {}
        self._live: Any = None
        self._last_line = 0.0
        self._t0 = time.time()

    # ---- observer protocol ---------------------------------------------------------------
    def started(self, plan: Plan) -> None:
        # An adaptive sweep executes one plan per rung: each gets a table of its own.
        self.close()
        self._plan, self._status, self._t0 = plan, {}, time.time()
        if self._live_wanted:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._table(), console=Console(file=self._stream),
                              refresh_per_second=4, transient=False)
            self._live.start()

    def settled(self, step_run: StepRun) -> None:
        self._status[step_run.plan_id] = step_run.status
        if self._live is not None:
            self._live.update(self._table())
        elif time.time() - self._last_line >= self._interval:
            self._print_line()

    def close(self) -> None:
        """Stop the live table, or print the last plain line.

        A run refused before any step settled (a missing API key) leaves no table behind: its
        error is the one line to read.
        """
        if self._live is not None:
            if self._status:
                self._live.update(self._table())
            else:
                self._live.transient = True
            self._live.stop()
            self._live = None
        elif self._plan is not None and self._status:
            self._print_line()

    # ---- rendering -------------------------------------------------------------------------
    def counts(self) -> dict[str, Counter[str]]:
        """Step name -> status -> count, with `running` for nodes whose inputs are all settled."""
        out: dict[str, Counter[str]] = {}
        if self._plan is None:
            return out
        for pid, node in self._plan.nodes.items():
            c = out.setdefault(node.name, Counter())
            c["total"] += 1
            status = self._status.get(pid)
            if status is not None:
                c[status] += 1
            elif all(u in self._status for u in node.upstream):
                c["running"] += 1
        return out

    def _table(self) -> Any:
        from rich.table import Table

        table = Table("step", "total", "done", "cached", "running", "failed", "skipped",
                      title=f"motools  {time.time() - self._t0:.0f}s", box=None)
        for step, c in self.counts().items():
            table.add_row(step, str(c["total"]), f"[green]{c['succeeded']}", f"[cyan]{c['cached']}",
                          str(c["running"]), f"[red]{c['failed']}", f"[yellow]{c['skipped']}")
        return table

    def _print_line(self) -> None:
        self._last_line = time.time()
        total = Counter[str]()
        for c in self.counts().values():
            total.update(c)
        settled = sum(total[s] for s in ("succeeded", "cached", "failed", "skipped"))
        print(
            f"[{time.time() - self._t0:.0f}s] {settled}/{total['total']} settled: "
            f"{total['succeeded']} done, {total['cached']} cached, {total['failed']} failed, "
            f"{total['skipped']} skipped, {total['running']} running",
            file=self._stream, flush=True,
        )
