"""W3C PROV export, import and lineage against a real server (issue 10).

The PROV-JSON is read by the `prov` package and counted against what the store holds; `prov`
serialises it to PROV-N and PROV-O; our PROV-O is parsed with rdflib and holds the statements
of our PROV-JSON; DOT renders with Graphviz; export -> import -> export is equivalent; a
document written by `prov` imports; lineage answers the seeds' Q6 and Q8.
"""

import json
import os
import shutil
import stat
import subprocess
import threading
import urllib.request

import pytest

from conftest import Server, _require_server, server_bin

prov_model = pytest.importorskip("prov.model")
rdflib = pytest.importorskip("rdflib")

FILTERS = [None, None, "grayscale"]
OPTIMIZERS = ["adam", "sgd", "rmsprop"]
EPOCHS = 6

SPEC = {
    "tag": "alexnet",
    "transformations": [
        {
            "tag": "Filters",
            "sets": [{"tag": "oFilters", "type": "OUTPUT", "attributes": [{"name": "FILTER_NAME", "type": "TEXT"}]}],
        },
        {
            "tag": "TrainingModel",
            "sets": [
                {"tag": "oFilters", "type": "INPUT", "dependency": "Filters"},
                {
                    "tag": "iTrainingModel",
                    "type": "INPUT",
                    "attributes": [
                        {"name": "OPTIMIZER_NAME", "type": "TEXT"},
                        {"name": "LEARNING_RATE", "type": "NUMERIC"},
                        {"name": "NUM_EPOCHS", "type": "NUMERIC"},
                    ],
                },
                {
                    "tag": "oTrainingModel",
                    "type": "OUTPUT",
                    "attributes": [
                        {"name": "TIMESTAMP", "type": "TEXT"},
                        {"name": "LOSS", "type": "NUMERIC"},
                        {"name": "ACCURACY", "type": "NUMERIC"},
                        {"name": "EPOCH", "type": "NUMERIC"},
                    ],
                },
            ],
        },
        {
            "tag": "Adaptation",
            "sets": [
                {"tag": "oTrainingModel", "type": "INPUT", "dependency": "TrainingModel"},
                {"tag": "iAdaptation", "type": "INPUT", "attributes": [{"name": "FACTOR", "type": "NUMERIC"}]},
                {
                    "tag": "oAdaptation",
                    "type": "OUTPUT",
                    "attributes": [
                        {"name": "NEW_LRATE", "type": "NUMERIC"},
                        {"name": "EPOCH_ID", "type": "NUMERIC"},
                        {"name": "ADAPTATION_ID", "type": "TEXT"},
                    ],
                },
            ],
        },
        {
            "tag": "TestingModel",
            "sets": [
                {"tag": "oTrainingModel", "type": "INPUT", "dependency": "TrainingModel"},
                {
                    "tag": "oTestingModel",
                    "type": "OUTPUT",
                    "attributes": [{"name": "ACCURACY", "type": "NUMERIC"}, {"name": "LOSS", "type": "NUMERIC"}],
                },
            ],
        },
    ],
}


def accuracy(r, e):
    return 0.3 + e * 0.05 + [0.10, 0.05, -0.05][r]


def events(r):
    ex = f"run-{r}"
    t0 = 1764061200 + r * 1000
    info = {
        "user": "ana",
        "email": "ana@example.org",
        "host": f"gpu-0{r}",
        "script": "/home/ana/alexnet.py",
        "hardware": json.dumps({"gpus": "1", "keras": "3.6.0", "jax": "0.4.35", "python": "3.11.2"}),
    }
    ev = []
    if FILTERS[r]:
        ev.append(
            {
                "key": f"{ex}-f",
                "dataflow": "alexnet",
                "execution": ex,
                "transformation": "filters",
                "task": "f",
                "status": "FINISHED",
                "time": t0,
                "sets": [{"tag": "ofilters", "elements": [[FILTERS[r]]]}],
                "execution_info": info,
            }
        )
    deps = [{"transformation": "filters", "task": "f"}] if FILTERS[r] else []
    ev.append(
        {
            "key": f"{ex}-t1",
            "dataflow": "alexnet",
            "execution": ex,
            "transformation": "trainingmodel",
            "task": "1",
            "status": "RUNNING",
            "time": t0 + 1,
            "dependencies": deps,
            "execution_info": info,
            "sets": [
                {"tag": "itrainingmodel", "elements": [[OPTIMIZERS[r], 0.001 * (r + 1), EPOCHS]]},
                {
                    "tag": "otrainingmodel",
                    "elements": [[f"2026-11-25 10:00:0{e}", 1.0 / e, accuracy(r, e), e] for e in range(1, EPOCHS + 1)],
                },
            ],
        }
    )
    ev.append(
        {
            "key": f"{ex}-t2",
            "dataflow": "alexnet",
            "execution": ex,
            "transformation": "trainingmodel",
            "task": "1",
            "status": "FINISHED",
            "time": t0 + 60,
        }
    )
    ev.append(
        {
            "key": f"{ex}-a",
            "dataflow": "alexnet",
            "execution": ex,
            "transformation": "adaptation",
            "task": "2",
            "status": "FINISHED",
            "time": t0 + 61,
            "dependencies": [{"transformation": "trainingmodel", "task": "1"}],
            "sets": [
                {"tag": "iadaptation", "elements": [[0.5]]},
                {"tag": "oadaptation", "elements": [[0.0005 * (r + 1), 3, "adapt-1"]]},
            ],
        }
    )
    ev.append(
        {
            "key": f"{ex}-test",
            "dataflow": "alexnet",
            "execution": ex,
            "transformation": "testingmodel",
            "task": "3",
            "status": "FINISHED",
            "time": t0 + 70,
            "dependencies": [{"transformation": "trainingmodel", "task": "1"}],
            "sets": [{"tag": "otestingmodel", "elements": [[accuracy(r, EPOCHS) - 0.05, 0.4]]}],
        }
    )
    return ev


@pytest.fixture(scope="module")
def alexnet(tmp_path_factory):
    _require_server()
    s = Server(str(tmp_path_factory.mktemp("prov") / "prov.sqlite")).start()
    st, ans = s.request("POST", "/api/v1/dataflows", SPEC)
    assert st == 201, ans
    for r in range(3):
        st, ans = s.request("POST", "/api/v1/batch", {"events": events(r)})
        assert st == 200, ans
    yield s
    s.stop()


def get(server, path):
    with urllib.request.urlopen(server.url + path, timeout=60) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


def counts_in_store(s, execution=None):
    """What the mapping (docs/prov-mapping.md) says an export holds, computed with SQL."""
    ex = f" and e.tag = '{execution}'" if execution else ""
    tasks = (
        "select t.id from task t join dataflow_execution e on e.id = t.df_exec"
        f" join dataflow d on d.id = e.df_id where d.tag = 'alexnet'{ex}"
    )
    execs = f"select e.id from dataflow_execution e join dataflow d on d.id = e.df_id where d.tag = 'alexnet'{ex}"

    def q(sql):
        return s.query(sql, dataflow="alexnet")[0]["n"]

    def rows_of(table, column):
        return q(f"select count(*) n from {table} where {column}_task_id in ({tasks})")

    def pairs(out, inp, t):
        col = f"{t}_task_id"
        return q(f"select count(*) n from {out} o join {inp} i on i.{col} = o.{col} where o.{col} in ({tasks})")

    sets = {
        "ofilters": "filters",
        "itrainingmodel": "trainingmodel",
        "otrainingmodel": "trainingmodel",
        "iadaptation": "adaptation",
        "oadaptation": "adaptation",
        "otestingmodel": "testingmodel",
    }
    rows = sum(rows_of(f"ds_{st}", o) for st, o in sets.items())
    colls = sum(
        q(
            f"select count(distinct t.df_exec) n from ds_{st} x join task t on t.id = x.{o}_task_id"
            f" where t.id in ({tasks})"
        )
        for st, o in sets.items()
    )
    n_exec = q(f"select count(*) n from ({execs})")
    n_tasks = q(f"select count(*) n from ({tasks})")
    files = q(f"select count(*) n from file where task_id in ({tasks})")
    gen = sum(rows_of(f"ds_{st}", o) for st, o in sets.items() if st.startswith("o")) + files
    used = (
        rows_of("ds_itrainingmodel", "trainingmodel")
        + rows_of("ds_iadaptation", "adaptation")
        + rows_of("ds_ofilters", "trainingmodel")
        + rows_of("ds_otrainingmodel", "adaptation")
        + rows_of("ds_otrainingmodel", "testingmodel")
    )
    informed = q(f"select count(*) n from task_dependency where task_id in ({tasks})")
    derived = (
        pairs("ds_otrainingmodel", "ds_itrainingmodel", "trainingmodel")
        + pairs("ds_otrainingmodel", "ds_ofilters", "trainingmodel")
        + pairs("ds_oadaptation", "ds_otrainingmodel", "adaptation")
        + pairs("ds_oadaptation", "ds_iadaptation", "adaptation")
        + pairs("ds_otestingmodel", "ds_otrainingmodel", "testingmodel")
    )
    # Every run here has a script, a person and a host: 3 agents, 3 associations, 1 delegation.
    relations = gen + used + informed + derived + 3 * n_exec + n_exec + colls + rows
    return {
        "entities": 1 + colls + rows + files,
        "activities": n_exec + n_tasks,
        "agents": 3 * n_exec,
        "relations": relations,
    }


def prov_counts(doc):
    c = {"entities": 0, "activities": 0, "agents": 0, "relations": 0}
    for r in doc.get_records():
        if isinstance(r, prov_model.ProvEntity):
            c["entities"] += 1
        elif isinstance(r, prov_model.ProvActivity):
            c["activities"] += 1
        elif isinstance(r, prov_model.ProvAgent):
            c["agents"] += 1
        else:
            c["relations"] += 1
    return c


@pytest.mark.parametrize("execution", [None, "run-2"])
def test_prov_json_read_by_prov_counts_match_store(alexnet, execution):
    path = "/api/v1/dataflows/alexnet/prov?format=prov-json" + (f"&execution={execution}" if execution else "")
    status, ctype, body = get(alexnet, path)
    assert status == 200 and ctype.startswith("application/json")
    doc = prov_model.ProvDocument.deserialize(content=body.decode(), format="json")
    assert prov_counts(doc) == counts_in_store(alexnet, execution)
    # prov writes it again as PROV-N and PROV-O without error.
    assert "document" in doc.serialize(format="provn")
    assert len(doc.serialize(format="rdf", rdf_format="turtle")) > 0
    # Typed literals and agents with their attributes.
    plain = json.loads(body)
    el = next(v for k, v in plain["entity"].items() if k.startswith("d:el-otrainingmodel-"))
    assert el["attr:loss"]["type"] == "xsd:double" and el["attr:timestamp"]["type"] == "xsd:string"
    program = next(v for k, v in plain["agent"].items() if k.startswith("d:program-"))
    assert program["dnnprov:keras"]["$"] == "3.6.0" and program["dnnprov:script"]["$"] == "/home/ana/alexnet.py"
    person = next(v for k, v in plain["agent"].items() if k.startswith("d:person-"))
    assert person["dnnprov:email"]["$"] == "ana@example.org"
    act = next(v for k, v in plain["activity"].items() if k.startswith("d:task-"))
    assert act["prov:startTime"].endswith("Z")


def test_prov_n_media_type_and_prov_o_has_prov_json_statements(alexnet):
    status, ctype, body = get(alexnet, "/api/v1/dataflows/alexnet/prov?format=prov-n&execution=run-1")
    assert status == 200 and ctype.startswith("text/provenance-notation") and body.startswith(b"document")
    status, ctype, ttl = get(alexnet, "/api/v1/dataflows/alexnet/prov?format=prov-o&execution=run-1")
    assert status == 200 and ctype.startswith("text/turtle")
    g = rdflib.Graph().parse(data=ttl.decode(), format="turtle")
    _, _, js = get(alexnet, "/api/v1/dataflows/alexnet/prov?format=prov-json&execution=run-1")
    plain = json.loads(js)
    PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
    ns = {k: v for k, v in plain["prefix"].items()}
    ns["prov"] = str(PROV)

    def iri(q):
        return rdflib.URIRef(ns[q.split(":", 1)[0]] + q.split(":", 1)[1])

    kinds = {"entity": PROV.Entity, "activity": PROV.Activity, "agent": PROV.Agent}
    expected = set()
    for kind, cls in kinds.items():
        for node, attrs in plain.get(kind, {}).items():
            expected.add((iri(node), rdflib.RDF.type, cls))
            for key, v in attrs.items():
                for lit in v if isinstance(v, list) else [v]:
                    if key == "prov:type":
                        expected.add((iri(node), rdflib.RDF.type, iri(lit["$"])))
                    elif key.startswith("attr:") and lit["type"] == "xsd:double":
                        expected.add((iri(node), iri(key), rdflib.Literal(lit["$"], datatype=rdflib.XSD.double)))
    roles = {
        "wasGeneratedBy": ("prov:entity", "prov:activity"),
        "used": ("prov:activity", "prov:entity"),
        "wasInformedBy": ("prov:informed", "prov:informant"),
        "wasDerivedFrom": ("prov:generatedEntity", "prov:usedEntity"),
        "wasAssociatedWith": ("prov:activity", "prov:agent"),
        "actedOnBehalfOf": ("prov:delegate", "prov:responsible"),
        "wasAttributedTo": ("prov:entity", "prov:agent"),
        "hadMember": ("prov:collection", "prov:entity"),
    }
    for kind, (a, b) in roles.items():
        rel = plain.get(kind, {})
        assert rel, kind
        pairs = {(iri(r[a]), PROV[kind], iri(r[b])) for r in rel.values()}
        assert len(set(g.triples((None, PROV[kind], None)))) == len(pairs), kind
        expected |= pairs
    missing = [t for t in expected if t not in g]
    assert not missing, missing[:5]


def test_dot_renders_with_graphviz_and_svg(alexnet, tmp_path):
    status, ctype, dot = get(alexnet, "/api/v1/dataflows/alexnet/prov?format=dot&execution=run-2")
    assert status == 200 and ctype.startswith("text/vnd.graphviz")
    assert b"shape=house" in dot and b"#FFFC87" in dot and b"#9FB1FC" in dot
    if not shutil.which("dot"):
        pytest.skip("graphviz not installed")
    out = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    status, ctype, svg = get(alexnet, "/api/v1/dataflows/alexnet/prov?format=svg&execution=run-2")
    assert status == 200 and ctype == "image/svg+xml" and b"<svg" in svg


def test_cli_export_to_file_matches_http(alexnet, tmp_path):
    out = tmp_path / "run-0.provn"
    subprocess.run(
        [
            server_bin(),
            "export",
            "alexnet",
            "--execution",
            "run-0",
            "--format",
            "prov-n",
            "--url",
            alexnet.url,
            "--output",
            str(out),
        ],
        check=True,
        timeout=60,
    )
    _, _, body = get(alexnet, "/api/v1/dataflows/alexnet/prov?format=prov-n&execution=run-0")
    assert out.read_bytes() == body
    db = subprocess.run(
        [server_bin(), "export", "alexnet", "--execution", "run-0", "--format", "prov-n", "--db", alexnet.db],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    assert db == body


def test_cli_export_writes_into_a_pipe_in_place(alexnet, tmp_path):
    """`--output` opens the path as it is: a named pipe (or /dev/null) stays what it was and
    receives the document; it is not replaced by a regular file."""
    fifo = tmp_path / "export.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    subprocess.run([server_bin(), "export", "alexnet", "--execution", "run-0", "--format", "prov-n",
                    "--db", alexnet.db, "--output", str(fifo)], check=True, timeout=60)
    reader.join(30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    _, _, body = get(alexnet, "/api/v1/dataflows/alexnet/prov?format=prov-n&execution=run-0")
    assert received == [body]


def summary(doc_json):
    """An export, without its store-given identifiers: what equivalence compares."""
    plain = json.loads(doc_json)
    ents = sorted(
        json.dumps({k: v for k, v in a.items() if k not in ("dnnprov:execution",)}, sort_keys=True)
        for i, a in plain.get("entity", {}).items()
        if not i.startswith("d:coll-")
    )
    acts = sorted(
        json.dumps({k: v for k, v in a.items() if k not in ("dnnprov:execution",)}, sort_keys=True)
        for a in plain.get("activity", {}).values()
    )
    agents = sorted(json.dumps(a, sort_keys=True) for a in plain.get("agent", {}).values())
    rels = {k: len(v) for k, v in plain.items() if k not in ("prefix", "entity", "activity", "agent")}
    return ents, acts, agents, rels, len(plain.get("entity", {}))


def test_export_import_export_is_equivalent(alexnet, tmp_path):
    _, _, first = get(alexnet, "/api/v1/dataflows/alexnet/prov?format=prov-json")
    other = Server(str(tmp_path / "other.sqlite")).start()
    try:
        req = urllib.request.Request(
            other.url + "/api/v1/prov", data=first, method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            assert r.status == 201
            ans = json.loads(r.read())
        assert ans["dataflow"] == "alexnet" and sorted(ans["executions"]) == ["run-0", "run-1", "run-2"]
        _, _, second = get(other, "/api/v1/dataflows/alexnet/prov?format=prov-json")
        assert summary(second) == summary(first)
        # Importing again stores nothing twice.
        with urllib.request.urlopen(
            urllib.request.Request(other.url + "/api/v1/prov", data=first, method="POST"), timeout=60
        ) as r:
            assert json.loads(r.read())["duplicates"] == ans["tasks"]
        _, _, third = get(other, "/api/v1/dataflows/alexnet/prov?format=prov-json")
        assert summary(third) == summary(first)
    finally:
        other.stop()


def test_document_written_by_prov_imports(alexnet, tmp_path):
    d = prov_model.ProvDocument()
    d.add_namespace("ex", "http://example.org/yprov/")
    data = d.entity("ex:mnist", {"prov:type": "ex:Dataset", "ex:samples": 60000, "prov:label": "MNIST"})
    params = d.entity("ex:params", {"prov:type": "ex:Params", "ex:lr": 0.01, "ex:optimizer": "adam"})
    model = d.entity("ex:model", {"prov:type": "ex:Model", "ex:accuracy": 0.93})
    model2 = d.entity("ex:model2", {"prov:type": "ex:Model", "ex:accuracy": 0.95})
    coll = d.collection("ex:models")
    prep = d.activity("ex:prep", "2026-11-25T09:00:00", "2026-11-25T09:01:00", {"prov:type": "ex:Preprocess"})
    train = d.activity("ex:train", "2026-11-25T09:01:00", "2026-11-25T10:00:00", {"prov:type": "ex:Training"})
    person = d.agent("ex:ana", {"prov:type": "prov:Person", "prov:label": "Ana"})
    soft = d.agent("ex:yprov4ml", {"prov:type": "prov:SoftwareAgent"})
    d.used(prep, data)
    d.wasGeneratedBy(params, prep)
    d.used(train, params)
    d.used(train, data)
    d.wasGeneratedBy(model, train)
    d.wasGeneratedBy(model2, train)
    d.wasInformedBy(train, prep)
    d.wasDerivedFrom(model, params, train)
    d.wasAssociatedWith(train, soft)
    d.wasAssociatedWith(train, person)
    d.actedOnBehalfOf(soft, person, train)
    d.wasAttributedTo(model, person)
    d.hadMember(coll, model)
    d.wasStartedBy(train, starter=prep)
    d.wasEndedBy(train)
    d.specializationOf(model2, model)
    d.alternateOf(model, model2)
    d.wasInfluencedBy(model, person)
    d.wasInvalidatedBy(params, train)
    src = tmp_path / "yprov.json"
    src.write_text(d.serialize(format="json"))
    out = subprocess.run(
        [server_bin(), "import", str(src), "--dataflow", "yprov", "--url", alexnet.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    ans = json.loads(out.stdout)
    assert ans["dataflow"] == "yprov" and ans["tasks"] == 2 and ans["elements"] == 4
    rows = alexnet.query("select accuracy, prov_id, training_task_id from ds_model order by accuracy", dataflow="yprov")
    assert [r["accuracy"] for r in rows] == [0.93, 0.95]
    # Queryable next to captured runs, and exported again.
    status, _, body = get(alexnet, "/api/v1/dataflows/yprov/prov?format=prov-json")
    back = prov_model.ProvDocument.deserialize(content=body.decode(), format="json")
    assert prov_counts(back)["activities"] == 3  # the execution and the two tasks
    runs = alexnet.query(
        "select user, script from dataflow_execution e join dataflow d on d.id = e.df_id where d.tag = 'yprov'"
    )
    assert runs[0]["user"] == "Ana"


def lineage(s, set_, row, direction):
    st, ans = s.request("GET", f"/api/v1/dataflows/alexnet/lineage?set={set_}&id={row}&direction={direction}&depth=5")
    assert st == 200, ans
    return ans


def test_lineage_q8_best_and_worst_training_back_to_filter(alexnet):
    best = alexnet.query(
        "select id, trainingmodel_task_id from ds_otrainingmodel order by accuracy desc limit 1", dataflow="alexnet"
    )[0]
    ans = lineage(alexnet, "otrainingmodel", best["id"], "back")
    sets = {(n["set"], json.dumps(n["values"], sort_keys=True)) for n in ans["nodes"] if n["kind"] == "entity"}
    # Run 0 (adam) is best: no filter; its hyperparameters are on the path.
    assert any(s == "itrainingmodel" and "adam" in v for s, v in sets)
    worst = alexnet.query("select id from ds_otrainingmodel order by accuracy asc limit 1", dataflow="alexnet")[0]
    ans = lineage(alexnet, "otrainingmodel", worst["id"], "back")
    filt = [n for n in ans["nodes"] if n.get("set") == "ofilters"]
    assert filt and filt[0]["values"]["filter_name"] == "grayscale"
    assert {
        "from": f"el-otrainingmodel-{worst['id']}",
        "to": f"el-ofilters-{filt[0]['row']}",
        "relation": "wasDerivedFrom",
    } in ans["edges"]
    # And the final test accuracy goes back through the training to the filter.
    test_row = alexnet.query("select id from ds_otestingmodel order by accuracy asc limit 1", dataflow="alexnet")[0]
    ans = lineage(alexnet, "otestingmodel", test_row["id"], "back")
    assert any(n.get("set") == "ofilters" for n in ans["nodes"]) and any(
        n.get("set") == "itrainingmodel" for n in ans["nodes"]
    )


def test_lineage_q6_best_training_forward_to_adaptation(alexnet):
    best = alexnet.query("select id from ds_otrainingmodel order by accuracy desc limit 1", dataflow="alexnet")[0]
    ans = lineage(alexnet, "otrainingmodel", best["id"], "forward")
    adapt = [n for n in ans["nodes"] if n.get("set") == "oadaptation"]
    assert (
        len(adapt) == 1
        and adapt[0]["values"]["new_lrate"] == pytest.approx(0.0005)
        and adapt[0]["values"]["epoch_id"] == 3
    )
    assert any(n["kind"] == "activity" and n["transformation"] == "adaptation" for n in ans["nodes"])
    # CLI
    out = subprocess.run(
        [
            server_bin(),
            "lineage",
            "alexnet",
            "--set",
            "otrainingmodel",
            "--id",
            str(best["id"]),
            "--direction",
            "both",
            "--json",
            "--url",
            alexnet.url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    both = json.loads(out.stdout)
    assert any(n.get("set") == "oadaptation" for n in both["nodes"]) and any(
        n.get("set") == "itrainingmodel" for n in both["nodes"]
    )


def test_errors_are_4xx(alexnet):
    for path, code in [
        ("/api/v1/dataflows/alexnet/prov?format=xml", 400),
        ("/api/v1/dataflows/alexnet/prov?execution=nope", 404),
        ("/api/v1/dataflows/nope/prov", 404),
        ("/api/v1/dataflows/alexnet/lineage?set=otrainingmodel&id=999999", 404),
        ("/api/v1/dataflows/alexnet/lineage?set=otrainingmodel", 400),
    ]:
        st, _ = alexnet.request("GET", path)
        assert st == code, path
    st, _ = alexnet.request("POST", "/api/v1/prov", [1, 2])
    assert st == 400
