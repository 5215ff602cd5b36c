"""dnnprov.torch against a real dnnprov server: a plain PyTorch loop on CPU, stored as the Keras
callback stores a fit (same sets, attributes, tasks), with what the loop reported."""
import hashlib
import json
import logging

import pytest

torch = pytest.importorskip("torch")

import dnnprov  # noqa: E402
import dnnprov.torch as dtorch  # noqa: E402
from dnnprov.training import TrainingRun  # noqa: E402

# The seeds' query (and clients/python/README.md's query from a file to its hyperparameters).
SEEDS_QUERY = "select trainingmodel_task_id, max(accuracy), min(loss) from ds_otrainingmodel group by 1"
HYPERPARAMETERS_OF_FILE = ("select i.* from ds_omodelfile f join ds_itrainingmodel i "
                           "on i.trainingmodel_task_id = f.trainingmodel_task_id where f.sha256 = ?")


def close(a, b, tol=1e-6):
    return a is not None and b is not None and abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))


def tiny():
    """A small classifier and 64 samples of 2 classes."""
    torch.manual_seed(0)
    x = torch.randn(64, 8)
    y = (x[:, 0] + x[:, 1] > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Dropout(0.25),
                                torch.nn.Linear(16, 2))
    return model, x, y


def train(run, model, opt, x, y, epochs, scheduler=None, steps=True, fail_at=None):
    """The plain loop; returns what it reported: per-epoch (loss, accuracy), per-step losses and
    the learning rate each epoch trained with."""
    loss_fn = torch.nn.CrossEntropyLoss()
    epochs_seen, step_losses, lrs = [], [], []
    for epoch in range(epochs):
        model.train()
        lrs.append(opt.param_groups[0]["lr"])
        total, correct = 0.0, 0
        for i in range(0, len(x), 16):
            if fail_at == (epoch, i):
                raise RuntimeError("loss went NaN")
            xb, yb = x[i:i + 16], y[i:i + 16]
            opt.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            correct += (out.argmax(1) == yb).sum().item()
            step_losses.append(loss.item())
            if steps:
                run.step(loss=loss)  # a tensor: read with .item()
        if scheduler is not None:
            scheduler.step()
        epochs_seen.append((total / len(x), correct / len(x)))
        run.epoch(loss=epochs_seen[-1][0], accuracy=epochs_seen[-1][1])
    return epochs_seen, step_losses, lrs


def evaluate(model, x, y):
    with torch.no_grad():
        out = model(x)
        return torch.nn.functional.cross_entropy(out, y).item(), (out.argmax(1) == y).float().mean().item()


def test_plain_loop_with_step_lr_and_no_validation(server, use_client):
    flow = "torchplain"
    use_client(server.url)
    model, x, y = tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    hyper = {"OPTIMIZER_NAME": True, "LEARNING_RATE": True, "MOMENTUM": True, "DECAY": True,
             "NUM_EPOCHS": True, "BATCH_SIZE": True, "NUM_LAYERS": True, "DROPOUT": 0.25}
    with dtorch.run(flow, model, opt, hyperparameters=hyper, scheduler=sched, epochs=5, batch_size=16) as run:
        epochs, step_losses, lrs = train(run, model, opt, x, y, 5, sched)
        test_loss, test_acc = evaluate(model, x, y)
        run.test(loss=test_loss, accuracy=test_acc)
    assert dnnprov.flush(30)

    hp = server.query("select * from ds_itrainingmodel", flow)
    assert len(hp) == 1
    hp = hp[0]
    assert hp["optimizer_name"] == "sgd" and close(hp["learning_rate"], 0.1) and close(hp["momentum"], 0.9)
    assert close(hp["decay"], 1e-4) and hp["dropout"] == 0.25
    assert (hp["num_epochs"], hp["batch_size"], hp["num_layers"]) == (5, 16, 4)

    layers = server.query("select * from ds_ilayers order by id", flow)
    assert [(r["name"], r["type"]) for r in layers] == [("0", "Linear"), ("1", "ReLU"), ("2", "Dropout"),
                                                         ("3", "Linear")]
    assert (layers[0]["units"], layers[0]["in_features"], layers[0]["params"]) == (16, 8, 8 * 16 + 16)
    assert layers[1]["activation"] == "relu" and layers[2]["dropout_rate"] == 0.25

    rows = server.query("select * from ds_otrainingmodel order by id", flow)
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4, 5]
    for r, (loss, acc) in zip(rows, epochs):
        assert close(r["loss"], loss) and close(r["accuracy"], acc)
        assert r["elapsed_time"] > 0 and len(r["timestamp"]) == 19
    assert "val_loss" not in rows[0]

    steps = server.query("select * from ds_otrainingstep order by step", flow)
    assert [r["step"] for r in steps] == list(range(1, 21))
    assert [r["epoch"] for r in steps] == [e for e in range(1, 6) for _ in range(4)]
    assert all(close(r["loss"], v) for r, v in zip(steps, step_losses))

    # StepLR(2, 0.5): epochs 3 and 5 train with a new rate.
    expected = [(lrs[i], i + 1) for i in range(1, 5) if lrs[i] != lrs[i - 1]]
    assert expected == [(0.05, 3), (0.025, 5)]
    ad = server.query("select * from ds_oadaptation order by adaptation_id", flow)
    assert [(round(r["new_lrate"], 8), r["epoch_id"], r["adaptation_id"]) for r in ad] == \
        [(lr, e, i + 1) for i, (lr, e) in enumerate(expected)]
    iad = server.query("select * from ds_iadaptation", flow)
    assert [(r["epochs_drop"], r["drop"], r["initial_lrate"]) for r in iad] == [(2, 0.5, 0.1)]

    test = server.query("select * from ds_otestingmodel", flow)
    assert len(test) == 1 and close(test[0]["loss"], test_loss) and close(test[0]["accuracy"], test_acc)
    assert test[0]["epoch"] == 5

    tasks = server.tasks(flow)
    assert {t["transformation"]: t["status"] for t in tasks} == {
        "trainingmodel": "FINISHED", "adaptation": "FINISHED", "testingmodel": "FINISHED"}
    assert len({t["execution"] for t in tasks}) == 1 and tasks[0]["execution"].startswith(flow + "-")

    seeds = server.query(SEEDS_QUERY, flow)
    assert len(seeds) == 1
    assert close(seeds[0]["max(accuracy)"], max(a for _, a in epochs))
    assert close(seeds[0]["min(loss)"], min(v for v, _ in epochs))

    info = server.query("select e.hardware from dataflow_execution e join dataflow d on d.id = e.df_id "
                        f"where d.tag = '{flow}'")
    assert len(info) == 1
    hw = json.loads(info[0]["hardware"])
    assert (hw["framework"], hw["framework_version"]) == ("torch", torch.__version__)


def test_seeds_query_same_on_keras_and_torch(server, use_client):
    keras = pytest.importorskip("keras")
    from dnnprov.keras import ProvenanceCallback
    use_client(server.url)
    model, x, y = tiny()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    with dtorch.run("torchkeras_t", model, opt) as run:
        epochs, _, _ = train(run, model, opt, x, y, 2, steps=False)
    km = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    km.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    km.fit(x.numpy(), y.numpy(), epochs=2, batch_size=16, verbose=0, callbacks=[ProvenanceCallback("torchkeras_k")])
    assert dnnprov.flush(30)
    t, k = server.query(SEEDS_QUERY, "torchkeras_t"), server.query(SEEDS_QUERY, "torchkeras_k")
    assert len(t) == len(k) == 1 and t[0].keys() == k[0].keys()
    assert close(t[0]["min(loss)"], min(v for v, _ in epochs))
    # The same sets and attributes for the same kind of training.
    cols = "select * from ds_{} limit 1"
    for s in ("itrainingmodel", "otrainingmodel", "ilayers"):
        tk = server.query(cols.format(s), "torchkeras_t")[0].keys()
        kk = server.query(cols.format(s), "torchkeras_k")[0].keys()
        assert set(kk) <= set(tk), s
    assert [t["transformation"] for t in server.tasks("torchkeras_t")] == \
        [t["transformation"] for t in server.tasks("torchkeras_k")]


def test_loop_that_raises_ends_failed(server, use_client):
    flow = "torchfail"
    use_client(server.url)
    model, x, y = tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match="loss went NaN"):
        with dtorch.run(flow, model, opt) as run:
            train(run, model, opt, x, y, 3, fail_at=(1, 32))
    assert dnnprov.flush(30)
    tasks = server.tasks(flow)
    training = next(t for t in tasks if t["transformation"] == "trainingmodel")
    assert training["status"] == "FAILED" and training["error_msg"] == "RuntimeError: loss went NaN"
    assert [r["epoch"] for r in server.query("select epoch from ds_otrainingmodel", flow)] == [1]
    assert len(server.query("select * from ds_otrainingstep", flow)) == 6  # 4 + 2 steps before the error


def test_save_records_the_file_and_its_hyperparameters(server, use_client, tmp_path):
    flow = "torchsave"
    use_client(server.url)
    model, x, y = tiny()
    opt = torch.optim.Adam(model.parameters(), lr=0.003, betas=(0.8, 0.99))
    path = tmp_path / "model.pt"
    with dtorch.run(flow, model, opt, hyperparameters={"OPTIMIZER_NAME": True, "LEARNING_RATE": True,
                                                       "BETA_1": True, "BETA_2": True}) as run:
        train(run, model, opt, x, y, 2, steps=False)
        assert run.save(model.state_dict(), path)
    assert dnnprov.flush(30)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    rows = server.query("select * from ds_omodelfile", flow)
    assert len(rows) == 1
    assert rows[0]["sha256"] == digest and rows[0]["size"] == path.stat().st_size and rows[0]["epoch"] == 2
    assert rows[0]["path"] == str(path)
    hp = server.query(HYPERPARAMETERS_OF_FILE.replace("?", f"'{digest}'"), flow)
    assert len(hp) == 1
    assert hp[0]["optimizer_name"] == "adam" and close(hp[0]["learning_rate"], 0.003)
    assert close(hp[0]["beta_1"], 0.8) and close(hp[0]["beta_2"], 0.99)


def test_capture_errors_never_reach_the_loop(server, use_client, caplog):
    use_client(server.url)
    model, x, y = tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    client = dnnprov.get_client()

    def broken(*a, **k):
        raise OSError("queue broke")
    client.send_event = broken
    client.register_dataflow = broken
    with caplog.at_level(logging.DEBUG, logger="dnnprov"):
        with dtorch.run("torchbroken", model, opt, scheduler=sched) as run:
            epochs, _, _ = train(run, model, opt, x, y, 2, sched)
            run.test(loss=0.1)
            assert not run.record_file("/nonexistent/file.pt")
    assert len(epochs) == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and len(warnings) <= 8  # once per method, not per call


def test_training_run_without_a_framework(server, use_client):
    flow = "neutral"
    use_client(server.url)
    with TrainingRun(flow, hyperparameters={"learning_rate": 0.5, "optimizer_name": "own"},
                     layers=[{"name": "w", "type": "Scalar"}], framework="numpy 2.0", resources=True) as run:
        for e in range(3):
            run.learning_rate(0.5 if e < 2 else 0.25)
            run.epoch(loss=1.0 / (e + 1), val_loss=2.0 / (e + 1))
        run.test(loss=0.3, accuracy=0.7, top_5=0.9)
    assert dnnprov.flush(30)
    rows = server.query("select * from ds_otrainingmodel order by epoch", flow)
    assert [(r["epoch"], r["loss"], r["val_loss"]) for r in rows] == [(1, 1.0, 2.0), (2, 0.5, 1.0),
                                                                      (3, 1 / 3, 2 / 3)]
    assert all(r["cpu_time"] >= 0 and r["rss_mb"] > 0 for r in rows)
    ad = server.query("select * from ds_oadaptation", flow)
    assert [(r["new_lrate"], r["epoch_id"]) for r in ad] == [(0.25, 3)]
    t = server.query("select * from ds_otestingmodel", flow)
    assert [(r["accuracy"], r["loss"], r["epoch"], r["top_5"]) for r in t] == [(0.7, 0.3, 3, 0.9)]
