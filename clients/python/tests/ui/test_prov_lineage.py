"""The web UI's lineage view (#/d/{tag}/lineage?set=S&id=N): the derivation path of one element
drawn as a PROV graph (issue 10)."""

from __future__ import annotations

from test_prov_export import SPEC, events


def test_lineage_view_draws_the_path_back_to_the_filter(make_server, browser):
    server = make_server().start()
    assert server.request("POST", "/api/v1/dataflows", SPEC)[0] == 201
    for r in range(3):
        assert server.request("POST", "/api/v1/batch", {"events": events(r)})[0] == 200
    worst = server.query("select id from ds_otrainingmodel order by accuracy asc limit 1", dataflow="alexnet")[0]["id"]
    b = browser(server.url)
    b.open(f"#/d/alexnet/lineage?set=otrainingmodel&id={worst}&direction=both")
    b.wait(lambda d: d.execute_script("return !!(window.dnnprov.lineage && window.dnnprov.lineage.network)"), 10)
    ids = b.js("return window.dnnprov.lineage.nodes.get().map((n) => n.id)")
    assert f"el-otrainingmodel-{worst}" in ids
    assert any(i.startswith("el-ofilters-") for i in ids) and any(i.startswith("el-oadaptation-") for i in ids)
    relations = set(b.js("return window.dnnprov.lineage.edges.get().map((e) => e.label)"))
    assert {"wasDerivedFrom", "used", "wasGeneratedBy"} <= relations
    assert "grayscale" in b.one("#lineage-side").text
    b.screenshot("lineage")
