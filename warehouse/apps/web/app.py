"""`warehouse view`: a local, read-only web app over the published snapshot.

Flask renders Jinja2 templates on the server; no JavaScript, nothing fetched from the internet.
Pages read one published snapshot through read-only connections (snapshot.py), reopened when
a newer one is published, so ingest is never blocked and a page never mixes two snapshots.
The server binds 127.0.0.1 only. Every error is a page with one clear line, never a traceback.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse.apps import runview
from warehouse.apps.web import queries
from warehouse.apps.web.snapshot import Snapshot, Snapshots
from warehouse.apps.web.svg import interval_bar, learning_curve
from warehouse.core.errors import QueryError, UsageError, WarehouseError

if TYPE_CHECKING:
    import duckdb
    from flask import Flask

HOST = "127.0.0.1"


def create_app(db: str) -> Flask:
    from flask import Flask, g, render_template, request

    snapshots = Snapshots(db)
    snapshots.current()  # a missing or unreadable database fails here, before serving

    def snap() -> Snapshot:
        if "snap" not in g:
            g.snap = snapshots.current()
        return g.snap

    def cursor() -> duckdb.DuckDBPyConnection:
        if "con" not in g:
            g.con = snap().cursor()
        return g.con

    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.jinja_env.globals.update(letter=_letter, fmt=_fmt, pct=_pct, interval_bar=interval_bar, parts=_parts)
    app.jinja_env.autoescape = True

    @app.teardown_appcontext
    def _close(_e: BaseException | None) -> None:
        con = g.pop("con", None)
        if con is not None:
            con.close()

    @app.errorhandler(WarehouseError)
    def _warehouse_error(e: WarehouseError) -> tuple[str, int]:
        code = 404 if isinstance(e, QueryError) else 400
        return render_template("error.html.j2", message=str(e)), code

    @app.errorhandler(404)
    def _not_found(_e: Exception) -> tuple[str, int]:
        return render_template("error.html.j2", message=f"no page at {request.path}"), 404

    @app.errorhandler(500)
    def _internal(e: Exception) -> tuple[str, int]:
        original = getattr(e, "original_exception", e)
        line = str(original).splitlines()[0] if str(original) else type(original).__name__
        return render_template("error.html.j2", message=f"internal error: {line}"), 500

    @app.get("/")
    def runs_page() -> str:
        con = cursor()
        f = queries.RunFilter.from_args(request.args)
        rows, total = queries.runs_list(con, f)
        return render_template(
            "runs.html.j2",
            rows=rows,
            total=total,
            f=f,
            choices=snap().choices,
            page=queries.PAGE,
            request_args=request.args.to_dict(),
        )

    @app.get("/run/<path:run>")
    def run_page(run: str) -> str:
        con = cursor()
        found = runview.find_run(con, run, runs="runs_t")
        steps = runview.run_steps(con, found["run_key"], steps="steps_t")
        curve = learning_curve(runview.learning_curve(steps))
        return render_template("run.html.j2", run=found, steps=steps, curve=curve, dials=_dials(found))

    @app.get("/step/<path:run>/<int:step>")
    def step_page(run: str, step: int) -> str:
        con = cursor()
        view = runview.find_step(con, runview.find_run(con, run, runs="runs_t"), step, steps="steps_t")
        return render_template("step.html.j2", v=view, pretty=runview.pretty_json)

    @app.get("/ranking")
    def ranking_page() -> str:
        return render_template("ranking.html.j2", rows=snap().ranking)

    @app.get("/settings")
    def settings_page() -> str:
        return render_template("settings.html.j2", rows=snap().settings)

    @app.get("/compare")
    def compare_page() -> str:
        con = cursor()
        a, b = request.args.get("a", ""), request.args.get("b", "")
        metric = request.args.get("metric", "credited")
        tests, result, pairs = [], None, []
        if a and b:
            paired = snap().cached(("compare", a, b, metric), lambda: _compare(con, snap().ids, a, b, metric))
            tests, result, pairs = paired.tests, paired.summary, paired.disagreements
        return render_template(
            "compare.html.j2",
            sides=snap().sides,
            a=a,
            b=b,
            metric=metric,
            metrics=queries.METRICS,
            tests=tests,
            result=result,
            pairs=pairs,
        )

    return app


def _compare(
    con: duckdb.DuckDBPyConnection, ids: queries.SideIds, a: str, b: str, metric: str
) -> queries.Paired:
    """The paired result and the disagreeing items, each with its question and both transcripts."""
    paired = queries.compare(con, ids, a, b, metric)
    pairs = paired.disagreements
    keys_a = [(p["file_id_a"], p["line_no_a"]) for p in pairs]
    keys_b = [(p["file_id_b"], p["line_no_b"]) for p in pairs]
    found = runview.transcripts(con, keys_a + keys_b)
    stems = runview.stems(con, keys_a)
    for pair, ka, kb in zip(pairs, keys_a, keys_b, strict=True):
        pair["ta"], pair["tb"] = found.get(ka, []), found.get(kb, [])
        pair["stem"] = stems.get(ka, "")
    return paired


def _parts(rows: list[dict[str, Any]], *keys: str) -> list[tuple[tuple[Any, ...], list[dict[str, Any]]]]:
    """Rows grouped by the values of `keys`, groups in first-seen order (rows come sorted)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in keys), []).append(row)
    return list(groups.items())


def _dials(run: dict[str, Any]) -> dict[str, Any]:
    import json

    try:
        value = json.loads(run.get("dials") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _letter(index: Any) -> str:
    letters = "ABCDEFGHIJ"
    if isinstance(index, int) and 0 <= index < len(letters):
        return letters[index]
    return "-" if index is None else str(index)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}%"


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} is in use: pick another with --port, or leave it out for a free one"
            ) from None
        raise UsageError(f"cannot listen on {HOST}:{port}: {e.strerror}") from None
    return sock


def serve(db: str, port: int = 0, ready: Any = None) -> None:
    """Serve until interrupted. port 0 picks a free port; `ready(url)` is called once listening."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass  # no line per request on stderr

    app = create_app(db)
    sock = _listen(port)
    with sock:  # werkzeug would print its own message and exit(1) on a busy port: bind here
        server = make_server(HOST, port, app, threaded=True, fd=sock.fileno(), request_handler=Quiet)
    url = f"http://{HOST}:{server.socket.getsockname()[1]}/"
    if ready is not None:
        ready(url)
    try:
        server.serve_forever()
    finally:
        server.server_close()
