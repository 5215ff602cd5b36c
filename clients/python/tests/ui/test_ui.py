"""The web UI in a headless Chromium against a real `dnnprov serve`, fed by the real Python
client while epochs keep arriving. Each page's screenshot goes to the folder printed at the end
of the session (DNNPROV_UI_SCREENSHOTS chooses it)."""
from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
import urllib.request

import pytest

RUNS = [("adam", 0.001, 6, "FINISHED"), ("nadam", 0.002, 5, "FINISHED"), ("sgd", 0.01, 4, "FAILED"),
        ("rmsprop", 0.001, 3, None)]


def runs_of(server, tag="mnist"):
    status, ans = server.request("GET", f"/api/v1/dataflows/{tag}/runs")
    assert status == 200, ans
    return {r["execution"]: r for r in ans["runs"]}


def no_csp_violations(b):
    bad = [e["message"] for e in b.console_errors() if "Content Security Policy" in e["message"]]
    assert not bad, bad


def vis_click(b, node_label=None, edge_label=None):
    """A click on a dataset or a transformation, through vis-network's own click event."""
    b.js("""const g = window.dnnprov.graph, [node, edge] = arguments;
            const nodes = node ? [g.nodes.get().find((n) => n.label === node).id] : [];
            const edges = edge ? [g.edges.get().find((e) => e.label === edge).id] : [];
            if (nodes.length) g.network.selectNodes(nodes);
            const at = {DOM: {x: 0, y: 0}, canvas: {x: 0, y: 0}};
            g.network.body.emitter.emit('click', {nodes, edges, pointer: at});""", node_label, edge_label)


def data_points(b, selector):
    return [int(n) for n in b.js("return document.querySelector(arguments[0]).dataset.points", selector).split(",")]


def table_rows(b):
    """The runs table as displayed: [{col: title-or-text}] in display order (rendered rows)."""
    return b.js("""
        const rows = [...document.querySelectorAll('.vt-body .vt-row')]
          .sort((a, b) => +a.getAttribute('aria-rowindex') - +b.getAttribute('aria-rowindex'));
        return rows.map((r) => {
          const o = {_id: +r.dataset.key};
          for (const c of r.querySelectorAll('.vt-cell')) {
            const s = c.querySelector('[title]');
            o[c.dataset.col] = s && s.getAttribute('title') !== '' ? s.getAttribute('title') : c.textContent;
          }
          return o;
        });""")


@pytest.fixture
def fed(make_server, feed):
    """A server with four runs of the predefined dataflow (one still running)."""
    server = make_server().start()
    f = feed(server, "mnist").add_runs(RUNS)
    return server, f


def test_runs_table_lists_sorts_filters_and_updates_live(fed, browser):
    server, f = fed
    live = f.runs[3]
    f.live(live)
    b = browser(server.url)
    b.open("#/")
    b.wait(lambda d: b.css('tr[data-tag="mnist"]'), 5)
    assert b.one('tr[data-tag="mnist"] td.num').text == str(len(RUNS))  # its run count
    b.screenshot("dataflows")
    b.one('tr[data-tag="mnist"] a').click()
    b.wait_ready()
    b.wait(lambda d: len(table_rows(b)) == len(RUNS), 10, "the table does not list every run")
    stored = runs_of(server)
    rows = {r["execution"]: r for r in table_rows(b)}
    assert set(rows) == set(stored)
    for run in f.runs[:3]:  # the finished ones: values do not move
        row, s = rows[run.name], stored[run.name]
        assert row["p:itrainingmodel.optimizer_name"] == run.optimizer
        assert float(row["p:itrainingmodel.learning_rate"]) == run.lr
        assert float(row["last:otrainingmodel.loss"]) == s["metrics"]["otrainingmodel"]["loss"]["last"]
        assert float(row["last:otrainingmodel.accuracy"]) == s["metrics"]["otrainingmodel"]["accuracy"]["last"]
        assert float(row["last:otrainingmodel.epoch"]) == run.epochs
    assert rows[f.runs[2].name]["status"].lower() == "failed"
    assert rows[live.name]["status"].lower() == "running"
    b.screenshot("runs")

    # Sort by the last loss: descending first (a number), then ascending.
    def loss_header():
        return b.one('.vt-header [data-col="last:otrainingmodel.loss"] button')
    def losses():
        return [float(r["last:otrainingmodel.loss"]) for r in table_rows(b)]
    loss_header().click()
    b.wait(lambda d: "sort=-last" in d.current_url, 5)
    b.wait(lambda d: losses() == sorted(losses(), reverse=True), 3, "not sorted by loss, descending")
    assert b.one('.vt-header [data-col="last:otrainingmodel.loss"]').get_attribute("aria-sort") == "descending"
    loss_header().click()
    b.wait(lambda d: "sort=last" in d.current_url, 5)
    b.wait(lambda d: losses() == sorted(losses()), 3, "not sorted by loss, ascending")

    # An OR filter, then ranges with AND, then an unknown field (a visible message).
    box = b.one("#run-filter")
    box.send_keys("optimizer_name=adam OR optimizer_name=nadam")
    b.wait(lambda d: {r["execution"] for r in table_rows(b)} == {f.runs[0].name, f.runs[1].name}, 5,
           "the OR filter does not give adam and nadam")
    assert "f=optimizer_name" in b.driver.current_url
    box.clear()
    box.send_keys("accuracy>0.8 AND epoch>=5")
    expected = {n for n, r in runs_of(server).items()
                if r["metrics"]["otrainingmodel"]["accuracy"]["last"] > 0.8
                and r["metrics"]["otrainingmodel"]["epoch"]["last"] >= 5 and n != live.name}
    b.wait(lambda d: {r["execution"] for r in table_rows(b)} - {live.name} == expected, 5)
    box.clear()
    box.send_keys("loss:0.3..0.5")
    b.wait(lambda d: all(0.3 <= float(r["last:otrainingmodel.loss"]) <= 0.5 for r in table_rows(b)), 5)
    box.clear()
    box.send_keys("nosuchfield>1")
    b.wait(lambda d: "unknown field" in b.text("#filter-msg"), 5)
    box.clear()
    box.send_keys(live.name)
    b.wait(lambda d: [r["execution"] for r in table_rows(b)] == [live.name], 5)

    # Live: the running run's epoch grows in place, without a reload.
    b.js("window.__no_reload = 1")
    before = float(table_rows(b)[0]["last:otrainingmodel.epoch"])
    b.wait(lambda d: float(table_rows(b)[0]["last:otrainingmodel.epoch"]) >= before + 2, 5,
           "the live run's epoch does not move in the table")
    assert b.js("return window.__no_reload") == 1
    no_csp_violations(b)


def test_chart_points_match_epochs_and_live_epochs_appear_within_a_second(fed, browser):
    server, f = fed
    live = f.runs[3]
    f.live(live)
    run_id = runs_of(server)[live.name]["id"]
    b = browser(server.url)
    b.open(f"#/d/mnist/run/{run_id}")
    chart = '.chart[data-metric="loss"][data-points]'
    b.one(chart)

    def points():
        return data_points(b, chart)

    def stored_epochs():
        rows = server.query("select count(*) as n from ds_otrainingmodel o "
                            "join task t on t.id = o.trainingmodel_task_id "
                            f"join dataflow_execution e on e.id = t.df_exec where e.tag = '{live.name}'", "mnist")
        return rows[0]["n"]

    with f.lock:  # no epoch is sent while the stored ones are counted
        assert f.client.flush(10)
        n = stored_epochs()
        assert n == live.epochs
        b.wait(lambda d: points() == [n, n], 3, f"the loss chart does not show {n} train and validation points")
        # uPlot's own data agrees with the attribute.
        drawn = b.js(f"const u = document.querySelector('{chart}').__chart.u;"
                     "return u.data[1].filter((v) => v !== null && v !== undefined).length")
        assert drawn == n
        b.js("window.__no_reload = 1")
        live.epoch()
        assert f.client.flush(10)
        acked = time.monotonic()
        b.wait(lambda d: points() == [n + 1, n + 1], 3, "the new epoch does not appear")
        assert time.monotonic() - acked < 1.0, "the new epoch took more than a second to appear"
        assert b.js("return window.__no_reload") == 1
    b.screenshot("run")

    # Compare: one series per run (and its validation twin), each with its stored epochs.
    ids = [runs_of(server)[r.name]["id"] for r in f.runs[:2]]
    b.open(f"#/d/mnist/compare?runs={ids[0]},{ids[1]}&y=loss,accuracy")
    b.one('.chart[data-metric="accuracy"][data-points]')
    got = data_points(b, '.chart[data-metric="loss"]')
    assert got == [f.runs[0].epochs] * 2 + [f.runs[1].epochs] * 2
    legend = b.js("return document.querySelector('.chart[data-metric=\"loss\"]').dataset.series")
    assert f.runs[0].name in legend and f.runs[1].name in legend
    # The learning rate with its adaptation points (every third epoch).
    b.one('.chart[data-metric="learning_rate"][data-points]')
    marks = data_points(b, '.chart[data-metric="learning_rate"]')[1::2]
    assert marks == [f.runs[0].epochs // 3, f.runs[1].epochs // 3]
    b.screenshot("compare")
    no_csp_violations(b)


def test_graph_shows_datasets_and_transformations_and_their_details(fed, browser):
    server, _ = fed
    b = browser(server.url)
    b.open("#/d/mnist/graph")
    b.wait(lambda d: d.execute_script("return !!(window.dnnprov.graph && window.dnnprov.graph.network)"), 10)
    status, sets = server.request("GET", "/api/v1/dataflows/mnist/sets")
    labels = b.js("return window.dnnprov.graph.nodes.get().map((n) => n.label)")
    assert sorted(labels) == sorted(s["tag"] for s in sets)
    edges = b.js("return window.dnnprov.graph.edges.get().map((e) => e.label)")
    assert set(edges) == {"trainingmodel", "adaptation", "testingmodel"}
    kinds = b.js("return Object.fromEntries(window.dnnprov.graph.nodes.get().map((n) => [n.label, n.kind]))")
    assert kinds["itrainingmodel"] == "input" and kinds["otrainingmodel"] != "input"
    # A click on a dataset (through vis-network's own click event): attributes, types, rows.
    vis_click(b, node_label="otrainingmodel")
    b.one('#set-attributes[data-set="otrainingmodel"]')
    shown = b.js("return [...document.querySelectorAll('#set-attributes tbody tr')]"
                 ".map((r) => [...r.cells].map((c) => c.textContent))")
    expected = next(s for s in sets if s["tag"] == "otrainingmodel")["attributes"]
    assert shown == [[a["name"], a["type"]] for a in expected]
    b.wait(lambda d: d.find_elements("css selector", "#set-sample table tbody tr"), 5, "no sample rows")
    b.screenshot("graph-dataset")
    # A click on a transformation: its tasks.
    vis_click(b, edge_label="adaptation")
    b.wait(lambda d: d.find_elements("css selector", "#transformation-tasks table tbody tr"), 5)
    n_tasks = len(b.css("#transformation-tasks table tbody tr"))
    adaptation_tasks = [t for t in server.tasks("mnist") if t["transformation"] == "adaptation"]
    assert n_tasks == len(adaptation_tasks)
    # Query from here: source and target picked on the graph open the query builder.
    b.js("window.dnnprov.graph.select('itrainingmodel')")
    b.one("#graph-side button").click()  # "Use as query source"
    b.js("window.dnnprov.graph.select('otrainingmodel')")
    b.css("#graph-side .row-gap button")[1].click()  # "Use as query target"
    b.wait(lambda d: "target=otrainingmodel" in d.current_url, 5)
    b.one("#open-query-builder").click()
    b.wait_ready()
    checked = b.js("return [...document.querySelectorAll('#qb-form input:checked')]"
                   ".filter((c) => c.name === 'source' || c.name === 'target').map((c) => c.name + ':' + c.value)")
    assert checked == ["source:itrainingmodel", "target:otrainingmodel"]
    no_csp_violations(b)


def test_query_builder_generates_the_join_and_matches_query_interface(fed, browser):
    server, _ = fed
    b = browser(server.url)
    b.open("#/d/mnist/query")
    b.one("#qb-result[data-rows]")
    # Project optimizer_name, epoch and loss only; keep the epochs from 3 on.
    b.js("[...document.querySelectorAll('#qb-form .attrs input:checked')].forEach((c) => c.click())")
    for key in ("itrainingmodel.optimizer_name", "otrainingmodel.epoch", "otrainingmodel.loss"):
        b.one(f'#qb-form input[data-attr="{key}"]').click()
    b.one("#qb-add-cond").click()
    from selenium.webdriver.support.ui import Select
    row = b.css("#qb-conds .cond-row")[-1]
    Select(row.find_element("css selector", "select[aria-label=Attribute]")).select_by_value("otrainingmodel.epoch")
    Select(row.find_element("css selector", "select[aria-label=Operator]")).select_by_value(">=")
    row.find_element("css selector", "input").send_keys("3")
    text = b.text("#qb-text")
    assert text == ("mapping(physical)\nsource(itrainingmodel)\ntarget(otrainingmodel)\n"
                    "projection(itrainingmodel.optimizer_name;otrainingmodel.epoch;otrainingmodel.loss)\n"
                    "selection(otrainingmodel.epoch >= 3)")
    b.js("document.querySelector('#qb-result').removeAttribute('data-rows')")
    b.one("#qb-run").click()
    b.one("#qb-result[data-rows]")
    sql = b.text("#qb-sql")
    flat = " ".join(sql.split()).lower()
    assert "from ds_itrainingmodel" in flat and "join ds_otrainingmodel on" in flat, sql
    assert "trainingmodel_task_id" in flat and ">= 3" in flat, sql
    result = b.js("return document.querySelector('#qb-result').__result")
    expected = server.query("select i.optimizer_name, o.epoch, o.loss from ds_itrainingmodel i "
                            "join ds_otrainingmodel o on o.trainingmodel_task_id = i.trainingmodel_task_id "
                            "where o.epoch >= 3", "mnist")
    got = sorted(tuple(r) for r in result["rows"])
    assert got == sorted((e["optimizer_name"], e["epoch"], e["loss"]) for e in expected)
    assert len(b.css("#qb-result table tbody tr")) == len(got)
    b.screenshot("query-builder")

    # The same specification through DfAnalyzer's route: the same rows.
    body = urllib.parse.urlencode({"message": text}).encode()
    req = urllib.request.Request(server.url + "/query_interface/mnist/1", data=body, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=30) as r:
        answer = r.read().decode()
    lines = list(csv.reader(io.StringIO(answer), delimiter=";"))
    assert [c.lower() for c in lines[0]] == ["optimizer_name", "epoch", "loss"]
    via_qi = sorted((o, float(e), float(loss)) for o, e, loss in lines[1:])
    assert via_qi == [(o, float(e), float(loss)) for o, e, loss in got]

    # CSV download is client-side; its text is what toCSV gives (quoted where needed).
    csv_text = b.js("return import('/ui/js/util.js')"
                    ".then((u) => u.toCSV(['a', 'b'], [['x,y', 'say \"hi\"'], [1, null]]))")
    assert csv_text == 'a,b\r\n"x,y","say ""hi"""\r\n1,\r\n'
    no_csp_violations(b)


def test_console_refuses_writes_and_a_saved_chart_survives_a_restart(make_server, feed, browser):
    server = make_server().start()
    feed(server, "mnist").add_runs(RUNS[:3])
    b = browser(server.url)
    b.open("#/d/mnist/sql")
    area = b.one("#sql-input")
    area.clear()
    area.send_keys("delete from ds_otrainingmodel")
    from selenium.webdriver.common.keys import Keys
    area.send_keys(Keys.CONTROL, Keys.ENTER)
    err = b.one("#sql-error")
    status, ans = server.request("POST", "/api/v1/query", {"sql": "delete from ds_otrainingmodel", "dataflow": "mnist"})
    assert status == 403
    assert ans["error"] in err.text and err.is_displayed()
    b.screenshot("sql-refused")
    assert server.query("select count(*) as n from ds_otrainingmodel", "mnist")[0]["n"] > 0

    area.clear()
    area.send_keys("select i.optimizer_name, avg(o.elapsed_time) as mean_time from ds_otrainingmodel o "
                   "join ds_itrainingmodel i on i.trainingmodel_task_id = o.trainingmodel_task_id "
                   "group by i.optimizer_name order by 1")
    b.one("#sql-run").click()
    b.wait(lambda d: b.js("return document.querySelector('#sql-result').dataset.rows") == "3", 10)
    from selenium.webdriver.support.ui import Select
    Select(b.one("#chart-type")).select_by_value("bar")
    Select(b.one("#chart-x")).select_by_value("optimizer_name")
    b.wait(lambda d: b.js("return document.querySelector('#console-chart').dataset.points") == "3", 5)
    b.one("#chart-title").send_keys("Mean epoch time (test)")
    b.one("#chart-save").click()
    b.wait(lambda d: "Saved" in b.text("#chart-saved"), 5)
    b.screenshot("sql-chart")

    # Restart on the same database: the chart is still on the dashboard, drawn from its SQL.
    server.stop()
    again = make_server(db=server.db, port=server.port).start()
    b.open("#/d/mnist/dashboard")
    # (The page re-renders once when it sees the server back: find the card by its content.)
    chart_id = b.wait(lambda d: b.js("""
        const c = [...document.querySelectorAll('.dash-card')].find((c) => c.textContent.includes(arguments[0]));
        return c && c.querySelector(".chart[data-points='3']") ? c.dataset.chart : null""", "Mean epoch time (test)"),
        10, "the saved chart is not drawn on the dashboard after the restart")
    assert len(b.css('.dash-card[data-builtin="true"]')) >= 1  # the seed's built-in charts
    b.screenshot("dashboard")
    b.one(f'.dash-card[data-chart="{chart_id}"] button.danger').click()
    b.driver.switch_to.alert.accept()
    b.wait(lambda d: not b.css(f'.dash-card[data-chart="{chart_id}"]'), 5)
    status, charts = again.request("GET", "/api/v1/charts?dataflow=mnist")
    assert all(c["id"] != chart_id for c in charts)
    no_csp_violations(b)


def test_empty_states_and_the_unreachable_banner(make_server, feed, browser):
    server = make_server().start()
    b = browser(server.url)
    b.open("#/")
    assert "No dataflows yet" in b.text("main")
    feed(server, "empty").client.flush(10)
    b.open("#/d/empty")
    b.wait(lambda d: b.css("#no-runs"), 10)
    assert "instrument" in b.text("#no-runs").lower()
    b.screenshot("empty")
    # The server goes away: a banner says so; it comes back: the banner goes.
    server.stop()
    b.wait(lambda d: b.one("#banner").is_displayed(), 10, "no banner while the server is down")
    b.screenshot("unreachable")
    again = make_server(db=server.db, port=server.port).start()
    b.wait(lambda d: not b.one("#banner").is_displayed(), 20, "the banner stays after the server is back")
    assert json.loads(json.dumps(again.request("GET", "/health")[1]))["status"] == "ok"


SYNTHETIC_RUNS = """
const realFetch = window.fetch;
window.fetch = async (url, opts) => {
  if (!/\\/api\\/v1\\/dataflows\\/[^/]+\\/runs$/.test(String(url))) return realFetch(url, opts);
  const opt = ['adam', 'nadam', 'sgd', 'rmsprop'], runs = [];
  for (let i = 1; i <= 10000; i++) {
    const loss = 2 / (i % 50 + 2);
    runs.push({id: i, execution: 'run-' + i, status: 'FINISHED', stale: false, tasks: 2, duration: 300 + i % 100,
      start_time: '2026-11-25 10:00:00.000', end_time: '2026-11-25 10:05:00.000', updated_at: '2026-11-25 10:05:00.000',
      user: 'u', host: 'h', script: 's.py', tables: {ilayers: 12},
      params: {itrainingmodel: {optimizer_name: opt[i % 4], learning_rate: 0.001 * (1 + i % 5)}},
      metrics: {otrainingmodel: {loss: {last: loss, min: loss, max: 2, count: 100},
                                 epoch: {last: 100, min: 1, max: 100, count: 100}}}});
  }
  const body = JSON.stringify({dataflow: 'mnist', seq: 0, now: '2026-11-25 10:06:00.000', stale_after: 300, runs});
  return new Response(body, {status: 200, headers: {'Content-Type': 'application/json'}});
};"""


def test_ten_thousand_runs_stay_virtualised_and_quick(make_server, feed, browser):
    """10,000 runs (a synthetic GET /runs answer): only the visible rows are in the page, and
    sorting and filtering happen in memory quickly."""
    server = make_server().start()
    feed(server, "mnist").client.flush(10)
    b = browser(server.url)
    script = b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SYNTHETIC_RUNS})
    try:
        b.driver.get("about:blank")
        b.open("#/d/mnist")
        b.wait(lambda d: b.js("return document.querySelector('.vt').dataset.shown") == "10000", 20)
        assert len(b.css(".vt-body .vt-row")) < 100
        elapsed = b.driver.execute_async_script("""const done = arguments[0], t = performance.now();
            document.querySelector('.vt-header [data-col="last:otrainingmodel.loss"] button').click();
            requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t)));""")
        losses = [float(r["last:otrainingmodel.loss"]) for r in table_rows(b)]
        assert losses == sorted(losses, reverse=True)
        assert elapsed < 1500, f"sorting 10,000 runs took {elapsed:.0f} ms"
        b.one("#run-filter").send_keys("optimizer_name=adam OR optimizer_name=nadam")
        b.wait(lambda d: b.js("return document.querySelector('.vt').dataset.shown") == "5000", 5)
        b.js("document.querySelector('.vt').scrollTop = 80000")
        b.wait(lambda d: min(r["_id"] for r in table_rows(b)) > 0 and len(b.css(".vt-body .vt-row")) < 100, 5)
        b.screenshot("runs-10000")
    finally:
        b.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
        b.driver.get("about:blank")


def test_tokens_required_the_page_signs_in_and_returns_to_the_view(make_server, use_client, browser):
    """With tokens required, the page sends the browser to /login, and a reader token brings it
    back to the view it asked for, which then loads through the session cookie (and a wrong
    token is refused there)."""
    from .conftest import Feeder
    from conftest import create_token

    server = make_server(args=["--require-tokens"]).start()
    writer, reader = create_token(server.db, "writer"), create_token(server.db, "reader")
    server.token = writer
    Feeder(use_client(server.url, token=writer, interval=0.02), "secured").add_runs(RUNS[:2])
    b = browser(server.url)
    b.driver.get(server.url + "/#/d/secured")  # not `open`: the view never renders without a token
    b.wait(lambda d: "/login" in d.current_url, 10, "no redirect to /login without a token")
    assert "next=" in b.driver.current_url
    b.one("#token").send_keys("dnp_wrong")
    b.one("form").submit()
    b.wait(lambda d: "unknown or revoked" in d.page_source, 10, "a wrong token is not refused")
    b.driver.back()
    b.one("#token").clear()
    b.one("#token").send_keys(reader)
    b.one("form").submit()
    b.wait(lambda d: d.current_url.endswith("#/d/secured"), 10, "not back on the view that asked")
    b.wait(lambda d: len(table_rows(b)) == 2, 10, "the runs did not load with the session cookie")
    b.screenshot("signed-in")


def test_zooming_a_downsampled_chart_shows_every_epoch_in_view(make_server, feed, browser):
    """A long run is downsampled on the server (fewer points than epochs, extremes kept); a zoom
    asks for the x range in view, and every epoch there is drawn."""
    server = make_server().start()
    f = feed(server, "long")
    f.add_runs([("adam", 0.001, 0, None)])
    run = f.runs[0]
    for _ in range(3000):
        run.epoch()
    assert f.client.flush(60)
    run_id = runs_of(server, "long")[run.name]["id"]
    b = browser(server.url)
    b.open(f"#/d/long/run/{run_id}")
    chart = '.chart[data-metric="loss"][data-points]'
    b.one(chart)
    b.wait(lambda d: 0 < data_points(b, chart)[0] < 3000, 10, "a 3,000-epoch series is not downsampled")
    assert "downsampled" in b.text('.metric-card[data-metric="loss"]')
    b.js(f"""const u = document.querySelector('{chart}').__chart.u;
             const l = u.valToPos(1000, 'x'), r = u.valToPos(1500, 'x');
             u.setSelect({{left: l, width: r - l, top: 0, height: 10}}, true);""")
    # Epochs 1000-1500 (give or take the pixel at each edge), every one of them.
    b.wait(lambda d: all(499 <= n <= 503 for n in data_points(b, chart)), 10,
           "the zoomed range is not drawn at full detail")
    b.screenshot("zoomed")
    # Reset: the whole run again, downsampled.
    b.js(f"document.querySelector('{chart}').__chart.resetZoom()")
    b.wait(lambda d: 0 < data_points(b, chart)[0] < 3000, 10, "the reset zoom does not bring the whole run back")


def test_an_unknown_dataflow_says_so_without_a_reconnecting_banner(make_server, browser):
    server = make_server().start()
    b = browser(server.url)
    b.open("#/d/nope")
    assert "unknown dataflow 'nope'" in b.text("main")
    time.sleep(1.5)  # the live stream would have failed and raised the banner by now
    assert not b.one("#banner").is_displayed()
