"""The points' eval logs in inspect's own viewer, bundled into the report folder (`inspect/`).

`inspect view bundle` (`inspect_ai.log.bundle_log_dir`) copies the viewer and the logs into a
static folder. Two changes make the bundle fit a report:
- logs are written in inspect's JSON format: the viewer reads an `.eval` (zip) log with HTTP range
  requests, which `python -m http.server` does not answer; a JSON log is read whole;
- the viewer's page names the folder the logs were bundled from (`abs_log_dir`), a temporary
  path: it is left out, so rebuilding gives the same files.
A point's log opens at `inspect/index.html#/logs/<point folder>/<log>.json`.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    import pyarrow as pa

    from motools.atom import AtomStore

VIEWER_DIR = "inspect"
_CONTEXT = re.compile(r'<script id="log_dir_context" type="application/json">.*?</script>')


def bundle_viewer(table: pa.Table, out_dir: Path, store: AtomStore) -> dict[int, str]:
    """Bundle every evaluated point's inspect log with inspect's viewer into `out_dir/inspect`.

    Args:
        table: The sweep's results table.
        out_dir: The report folder.
        store: The store holding the eval atoms.

    Returns:
        Point index -> the link (relative to the report folder) that opens its log; empty when
        no point has an inspect log (the viewer is then not bundled).
    """
    from motools.sweep import export_eval_logs

    target = out_dir / VIEWER_DIR
    with tempfile.TemporaryDirectory(prefix="motools-report-") as tmp:
        exported = export_eval_logs(table, Path(tmp) / "eval", store=store)
        if not exported.written:
            return {}
        # Only now: importing inspect takes seconds, and a dummy sweep has no log to show.
        from inspect_ai.log import bundle_log_dir, read_eval_log, write_eval_log

        logs = Path(tmp) / "logs"
        links: dict[int, str] = {}
        for path in exported.written:
            rel = path.relative_to(Path(tmp) / "eval").with_suffix(".json")
            (logs / rel).parent.mkdir(parents=True, exist_ok=True)
            write_eval_log(read_eval_log(str(path)), str(logs / rel), format="json")
            index = int(rel.parts[0].split("_", 1)[0].removeprefix("point-"))
            route = quote(rel.as_posix(), safe="/=+")
            links.setdefault(index, f"{VIEWER_DIR}/index.html#/logs/{route}")
        _quietly(lambda: bundle_log_dir(log_dir=str(logs), output_dir=str(target),
                                        overwrite=True))
    index_html = target / "index.html"
    context = json.dumps({"log_dir": "logs"})
    page = _CONTEXT.sub(lambda _: '<script id="log_dir_context" type="application/json">'
                        f"{context}</script>", index_html.read_text())
    index_html.write_text(page)
    return links


def _quietly(call: object) -> None:
    """Run inspect's bundler without its progress display on the report's stdout."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        call()  # type: ignore[operator]
