"""The examples run (briefly) against a real server and answer their queries."""
import os
import subprocess
import sys

from conftest import REPO


def run_example(name, args, server, env):
    env = dict(env, DNNPROV_URL=server.url, KERAS_BACKEND="jax")
    out = subprocess.run([sys.executable, os.path.join(REPO, "examples", name)] + args, env=env,
                         check=True, timeout=300, capture_output=True, text=True)
    return out.stdout


def test_manual_example_gives_q8(server, subprocess_env):
    out = run_example("dnnprov_manual.py", ["--epochs", "2"], server, subprocess_env)
    assert "Q8:" in out
    rows = server.query("select filter_name, gray_levels, filters_task_id, trainingmodel_task_id "
                        "from ds_ofilters order by id", "alexnet-manual")
    assert [(r["filter_name"], r["gray_levels"]) for r in rows] == [("none", 17), ("grayscale", 4)]
    assert all(r["trainingmodel_task_id"] is not None for r in rows)
    tasks = server.tasks("alexnet-manual")
    assert len({t["execution"] for t in tasks}) == 2
    assert {t["status"] for t in tasks} == {"FINISHED"}
    assert len(server.query("select * from ds_oadaptation", "alexnet-manual")) == 0  # 2 epochs: no drop yet


def test_alexnet_example(server, subprocess_env):
    out = run_example("keras_alexnet_digits.py", ["--epochs", "2", "--optimizers", "adam,sgd",
                                                  "--dataflow", "alexnet-example", "--epochs-drop", "1"],
                      server, subprocess_env)
    assert "optimizer_name" in out
    hyper = server.query("select optimizer_name, num_epochs, dropout from ds_itrainingmodel order by id",
                         "alexnet-example")
    assert [(h["optimizer_name"], h["num_epochs"], h["dropout"]) for h in hyper] == [("adam", 2, 0.4), ("sgd", 2, 0.4)]
    assert len(server.query("select * from ds_otrainingmodel", "alexnet-example")) == 4
    assert len(server.query("select * from ds_otestingmodel", "alexnet-example")) == 2
    # step decay with a drop every epoch: the rate of epoch 1 is already halved (that is the
    # initial rate), epoch 2 halves it again (one adaptation per training)
    lrs = server.query("select learning_rate from ds_itrainingmodel order by id", "alexnet-example")
    assert [round(r["learning_rate"], 6) for r in lrs] == [0.0005, 0.005]
    adapt = server.query("select new_lrate, epoch_id from ds_oadaptation order by id", "alexnet-example")
    assert [(round(a["new_lrate"], 6), a["epoch_id"]) for a in adapt] == [(0.00025, 2), (0.0025, 2)]
