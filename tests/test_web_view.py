"""`warehouse view` served for real on 127.0.0.1 over a warehouse of real transcripts.

The end-to-end check of issue 20: runs made against the OpenAI-compatible test server are
followed from the runs list, through the run page, to every step's exact prompt and completion.
"""

from __future__ import annotations

import html
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import view_support
from test_cli_errors import error_line, warehouse
from web_support import get, served

from warehouse.core.errors import ExitCode


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> view_support.Warehouse:
    mp = pytest.MonkeyPatch()
    mp.setenv(view_support.ENV, view_support.KEY)
    try:
        return view_support.build(tmp_path_factory.mktemp("web"))
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def url(wh: view_support.Warehouse) -> Iterator[str]:
    with served(wh.db) as base:
        yield base


def _links(page: str, cls: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(rf'class="{cls}" href="([^"]+)"', page)]


def test_it_listens_on_loopback_only(url: str) -> None:
    assert url.startswith("http://127.0.0.1:")


def test_every_step_leads_to_its_exact_prompt_and_completion(wh: view_support.Warehouse, url: str) -> None:
    status, runs = get(url + "/")
    assert status == 200
    run_links = _links(runs, "run-link")
    assert len(run_links) == 2
    for model, run_id in wh.run_ids.items():
        link = next(h for h in run_links if run_id.startswith(h.rsplit("/", 1)[1][:13]))
        status, run_page = get(url + link)
        assert status == 200 and model in run_page and "<svg" in run_page
        step_links = _links(run_page, "step-link")
        assert len(step_links) == view_support.STEPS
        sent = wh.sent[model]  # one LEARN and one USE request per step, in order
        for i, step_link in enumerate(step_links):
            status, step_page = get(url + step_link)
            assert status == 200
            text = html.unescape(step_page)
            for body in sent[2 * i : 2 * i + 2]:
                for message in body["messages"]:
                    assert message["content"] in text
            assert text.count('<span class="role assistant">') == 2
            assert view_support.KEY not in text


def test_filters_and_sorting(wh: view_support.Warehouse, url: str) -> None:
    _, page = get(url + "/?model=" + quote("test/first"))
    assert 'id="count">1 run(s)' in page and "test/first" in page
    _, none = get(url + "/?dial=self_consistency_n%3D9")
    assert 'id="count">0 run(s)' in none
    _, some = get(url + "/?dial=self_consistency_n%3D1&tau=0.35&status=complete&since=2000-01-01")
    assert 'id="count">2 run(s)' in some
    _, asc = get(url + "/?sort=model&order=asc")
    table = asc.split('id="runs"', 1)[1]
    assert table.index("test/first") < table.index("test/smart")
    _, desc = get(url + "/?sort=model&order=desc")
    table = desc.split('id="runs"', 1)[1]
    assert table.index("test/smart") < table.index("test/first")


def test_ranking_and_best_settings_show_intervals(wh: view_support.Warehouse, url: str) -> None:
    from warehouse.store.db import open_reader

    con = open_reader(wh.db)
    try:
        ranking_rows = con.execute(
            "SELECT model, rate_low, rate_high, could_be_best FROM model_ranking"
        ).fetchall()
        settings_rows = con.execute(
            "SELECT model, rate_low, rate_high, is_recommended, more_data_needed FROM best_settings"
        ).fetchall()
    finally:
        con.close()
    _, ranking = get(url + "/ranking")
    assert "tie group" in ranking and ranking.count('class="ci"') == len(ranking_rows) == 2
    assert "credited rate" in ranking and "could be best" in ranking
    assert ranking.count('<span class="tag good">could be best') == sum(r[3] for r in ranking_rows)
    for _, low, high, _ in ranking_rows:
        assert f"{100 * low:.1f}% – {100 * high:.1f}%" in ranking
    _, settings = get(url + "/settings")
    assert "95% interval" in settings and settings.count('class="ci"') == len(settings_rows)
    assert settings.count('<span class="tag good">recommended</span>') == sum(r[3] for r in settings_rows)
    # 6 steps a setting: below the minimum, so nothing is proven and the best says more data needed
    unproven = [r for r in settings_rows if r[3] and r[4]]
    assert settings.count("more data needed</span>") == len(unproven)


@pytest.mark.parametrize("kind", ["model", "model@setting", "run_id"])
def test_compare_matches_paired_comparison_and_lists_disagreements(
    wh: view_support.Warehouse, url: str, kind: str
) -> None:
    from warehouse.store.db import open_reader

    con = open_reader(wh.db)
    try:
        names = {
            model: {"model": model, "model@setting": f"{model}@{setting}", "run_id": run_id}[kind]
            for model, setting, run_id in con.execute("SELECT model, setting_id, run_id FROM runs").fetchall()
        }
        a, b = names["test/smart"], names["test/first"]
        tests = con.execute(
            "SELECT task_type, n_items, diff, diff_low, diff_high, p_value FROM paired_comparison($a, $b)",
            {"a": a, "b": b},
        ).fetchall()
        only_a, only_b = con.execute(
            "SELECT count(*) FILTER (WHERE s.credited AND NOT f.credited),"
            " count(*) FILTER (WHERE NOT s.credited AND f.credited)"
            " FROM steps s JOIN steps f USING (item_id)"
            " WHERE s.model = 'test/smart' AND f.model = 'test/first'"
        ).fetchone() or (0, 0)
    finally:
        con.close()
    status, page = get(url + f"/compare?a={quote(a, safe='')}&b={quote(b, safe='')}&metric=credited")
    assert status == 200
    # the headline is the macro's (items averaged over repeats, clustered), one row per task type/tau
    assert len(tests) == 1 and page.count('<tr class="test">') == 1
    _, n_items, diff, low, high, p_value = tests[0]
    assert n_items == view_support.STEPS and f"<b>{n_items}</b>" in page
    for value in (diff, low, high):
        assert f"{100 * value:.1f}%" in page
    assert f"p = {p_value:.3g}" in page and "McNemar" not in page
    # the page's own step pairs only list the disagreeing items, and say they are not a test
    assert "descriptive, not a test" in page
    assert page.count('class="pair"') == only_a + only_b > 0
    assert page.count('class="side-a"') == page.count('class="side-b"') == only_a + only_b
    assert "95% interval" in page


def test_compare_with_an_unknown_side_is_a_one_line_page(url: str) -> None:
    status, page = get(url + "/compare?a=test%2Fsmart&b=no-such-model")
    assert status == 400 and "no-such-model" in html.unescape(page) and "matches no" in page
    assert "Traceback" not in page


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/run/no-such-run", "no run 'no-such-run'"),
        ("/step/RUN/99", "has no step 99"),
        ("/nowhere", "no page"),
    ],
)
def test_unknown_things_are_one_line_pages(
    wh: view_support.Warehouse, url: str, path: str, words: str
) -> None:
    status, page = get(url + path.replace("RUN", wh.run_ids["test/smart"]))
    assert status == 404 and words in html.unescape(page) and "Traceback" not in page


def test_missing_database_and_busy_port_are_one_line_errors(
    wh: view_support.Warehouse, tmp_path: Path
) -> None:
    line = error_line(warehouse("view", "--db", str(tmp_path / "none.duckdb")), ExitCode.USAGE)
    assert "no database" in line
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = error_line(warehouse("view", "--db", str(wh.db), "--port", str(port)), ExitCode.USAGE)
    assert f"port {port} is in use" in line


def test_ingest_runs_while_serving_and_the_next_page_shows_it(
    wh: view_support.Warehouse, tmp_path: Path
) -> None:
    db = tmp_path / "copy.duckdb"
    runs = tmp_path / "runs"
    shutil.copytree(wh.runs / "view", runs / "view")
    assert warehouse("ingest", str(runs), "--db", str(db), "-q").returncode == 0
    with served(db) as base:
        _, before = get(base + "/")
        extra = Path(__file__).parent / "fixtures" / "runs"
        shutil.copytree(extra, runs / "more")
        done = warehouse("ingest", str(runs), "--db", str(db), "-q")
        assert done.returncode == 0, done.stderr  # the open view never blocks the writer
        _, after = get(base + "/")
    count = re.compile(r'id="count">(\d+) run')
    m_before, m_after = count.search(before), count.search(after)
    assert m_before and m_after and int(m_after.group(1)) > int(m_before.group(1)) == 2


def test_repeated_items_unproven_settings_and_a_clustered_compare(tmp_path: Path) -> None:
    """Two models x two settings x two runs on the same 40 items (synthetic, equal true rates):
    items recur, so the compare headline (items) differs from the step pairs, and with 80 steps a
    setting nothing is proven within the margin: the recommended setting says more data needed."""
    import synth

    from ingest import ingest_runs
    from warehouse.store.db import open_reader

    design = synth.Design(
        base={"syn/a": 0.5, "syn/b": 0.5},
        grid={"fact_cards_budget": (5, 10)},
        runs=2,
        steps=40,
        shared_items=True,
    )
    synth.write_corpus(tmp_path / "runs", design, seed=7)
    db = tmp_path / "runs.duckdb"
    ingest_runs(str(tmp_path / "runs"), str(db))
    con = open_reader(db)
    try:
        unproven = con.execute(
            "SELECT count(*) FILTER (WHERE more_data_needed), count(*) FILTER (WHERE is_recommended),"
            " count(*) FILTER (WHERE could_be_best AND NOT below_min_n) FROM best_settings"
        ).fetchone() or (0, 0, 0)
        n_items, diff, p_value = con.execute(
            "SELECT n_items, diff, p_value FROM paired_comparison('syn/a', 'syn/b')"
        ).fetchone() or (0, 0.0, 1.0)
    finally:
        con.close()
    assert unproven[0] > 0 and unproven[1] == 2
    with served(db) as base:
        _, settings = get(base + "/settings")
        _, page = get(base + "/compare?a=syn%2Fa&b=syn%2Fb&metric=credited")
    assert settings.count("more data needed</span>") == unproven[0]
    assert settings.count('<span class="tag good">recommended</span>') == unproven[1]
    assert settings.count('<span class="tag">could be best') == unproven[2]
    assert n_items == 40 and f"<b>{n_items}</b>" in page and f"p = {p_value:.3g}" in page
    assert f"{100 * diff:.1f}%" in page
    pairs = re.search(r"(\d+) step pairs over (\d+) items", page)
    assert pairs and int(pairs.group(1)) == 4 * 40 and int(pairs.group(2)) == 40  # 4 runs a side
