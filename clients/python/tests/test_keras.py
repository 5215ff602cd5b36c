"""ProvenanceCallback against a real dnnprov server: what is stored is what Keras reported."""
import math

import keras
import pytest

import dnnprov
from dnnprov.keras import ProvenanceCallback

from digits import Slow, close, data, model

ALL_HYPERPARAMETERS = {"OPTIMIZER_NAME": True, "LEARNING_RATE": True, "DECAY": True, "MOMENTUM": True,
                       "NUM_EPOCHS": True, "BATCH_SIZE": True, "NUM_LAYERS": True}


def expected_adaptations(history):
    """(new learning rate, 1-based epoch) wherever the rate Keras used changed between epochs."""
    lrs = history.history["learning_rate"]
    return [(round(lrs[i], 6), i + 1) for i in range(1, len(lrs)) if not math.isclose(lrs[i], lrs[i - 1])]


def check_epochs(server, flow, history, validation):
    rows = server.query("select * from ds_otrainingmodel order by id", flow)
    h = history.history
    assert [r["epoch"] for r in rows] == list(range(1, len(h["loss"]) + 1))
    for r, loss, acc in zip(rows, h["loss"], h["accuracy"]):
        assert close(r["loss"], loss) and close(r["accuracy"], acc)
        assert r["elapsed_time"] > 0 and len(r["timestamp"]) == 19
    if validation:
        assert [round(r["val_loss"], 5) for r in rows] == [round(v, 5) for v in h["val_loss"]]
        assert all(close(r["val_accuracy"], v) for r, v in zip(rows, h["val_accuracy"]))
    else:
        assert "val_loss" not in rows[0]
    return rows


def test_fit_with_validation_scheduler_and_evaluate(server, use_client):
    flow = "kerasval"
    use_client(server.url)
    x, y, xt, yt = data()
    m = model()
    cb = ProvenanceCallback(flow, adaptation=True, hyperparameters=ALL_HYPERPARAMETERS,
                            extra={"DROPOUT": 0.25, "FILTER": "none"},
                            adaptation_params={"EPOCHS_DROP": 2, "DROP": 0.5, "INITIAL_LRATE": 0.05})
    step_decay = keras.callbacks.LearningRateScheduler(
        lambda epoch: 0.05 * math.pow(0.5, math.floor((1 + epoch) / 2)))
    h = m.fit(x, y, epochs=4, batch_size=64, validation_split=0.2, verbose=0, callbacks=[step_decay, cb])
    ev = m.evaluate(xt, yt, verbose=0, return_dict=True)  # no callbacks passed: still captured
    assert dnnprov.flush(30)

    hyper = server.query("select * from ds_itrainingmodel", flow)
    assert len(hyper) == 1
    hp = hyper[0]
    assert hp["optimizer_name"] == "sgd" and close(hp["learning_rate"], 0.05)
    assert (hp["num_epochs"], hp["num_layers"], hp["batch_size"]) == (4, 5, 64)
    assert close(hp["momentum"], 0.9) and hp["decay"] is None
    assert hp["dropout"] == 0.25 and hp["filter"] == "none"

    rows = check_epochs(server, flow, h, validation=True)
    tasks = server.tasks(flow)
    assert sorted((t["transformation"], t["identifier"], t["status"]) for t in tasks) == [
        ("adaptation", "2", "FINISHED"), ("testingmodel", "3", "FINISHED"), ("trainingmodel", "1", "FINISHED")]
    assert len({t["execution"] for t in tasks}) == 1
    training_id = next(t["id"] for t in tasks if t["identifier"] == "1")
    assert {r["trainingmodel_task_id"] for r in rows} == {training_id}

    adapt = server.query("select new_lrate, epoch_id, adaptation_id from ds_oadaptation order by id", flow)
    expected = expected_adaptations(h)
    assert expected == [(0.025, 2), (0.0125, 4)]
    assert [(round(a["new_lrate"], 6), a["epoch_id"]) for a in adapt] == expected
    assert [a["adaptation_id"] for a in adapt] == [1, 2]
    assert server.query("select epochs_drop, \"drop\", initial_lrate from ds_iadaptation", flow) == [
        {"epochs_drop": 2, "drop": 0.5, "initial_lrate": 0.05}]

    test = server.query("select * from ds_otestingmodel", flow)
    assert len(test) == 1
    assert close(test[0]["accuracy"], ev["accuracy"]) and close(test[0]["loss"], ev["loss"])
    assert test[0]["epoch"] == 4

    layers = server.query("select * from ds_ilayers order by id", flow)
    assert [(layer["name"], layer["type"]) for layer in layers] == [(k.name, type(k).__name__) for k in m.layers]
    conv, pool, _, drop, dense = layers
    assert (conv["filters"], conv["kernel_size"], conv["padding"], conv["activation"]) == (8, "3x3", "same", "relu")
    assert pool["kernel_size"] == "2x2" and drop["dropout_rate"] == 0.25
    assert (dense["units"], dense["activation"]) == (10, "softmax")
    assert [layer["params"] for layer in layers] == [k.count_params() for k in m.layers]


def test_fit_without_validation_and_plateau_adaptation(server, use_client):
    flow = "kerasnoval"
    use_client(server.url)
    x, y, xt, yt = data()
    m = model(keras.optimizers.Adam(0.01))
    cb = ProvenanceCallback(flow)  # Keras-Prov's default choice of hyperparameters
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10)
    h = m.fit(x, y, epochs=4, batch_size=128, verbose=0, callbacks=[cb, plateau])
    assert dnnprov.flush(30)
    check_epochs(server, flow, h, validation=False)
    hp = server.query("select * from ds_itrainingmodel", flow)[0]
    assert hp["optimizer_name"] == "adam" and hp["batch_size"] == 128
    assert "momentum" not in hp and "decay" not in hp
    adapt = server.query("select new_lrate, epoch_id from ds_oadaptation order by id", flow)
    expected = expected_adaptations(h)
    assert len(expected) == 2
    assert [(a["new_lrate"], a["epoch_id"]) for a in adapt] == [(pytest.approx(lr), e) for lr, e in expected]
    assert all(t["status"] == "FINISHED" for t in server.tasks(flow))


class Boom(keras.callbacks.Callback):
    def __init__(self, error=None):
        super().__init__()
        self.error = error if error is not None else RuntimeError("boom at epoch 2")

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise self.error


def test_fit_that_raises_ends_failed(server, use_client):
    flow = "kerasfail"
    use_client(server.url)
    x, y, _, _ = data()
    m = model()
    cb = ProvenanceCallback(flow, adaptation=False)
    with pytest.raises(RuntimeError):  # the first fit of a model
        m.fit(x, y, epochs=5, verbose=0, callbacks=[cb, Boom()])
    with pytest.raises(KeyboardInterrupt):  # a later one, interrupted
        m.fit(x, y, epochs=5, verbose=0, callbacks=[cb, Boom(KeyboardInterrupt())])
    m.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    assert dnnprov.flush(30)
    tasks = server.tasks(flow)
    assert [(t["identifier"], t["status"]) for t in tasks] == [("1", "FAILED"), ("1", "FAILED"), ("1", "FINISHED")]
    assert len({t["execution"] for t in tasks}) == 3
    assert tasks[0]["error_msg"] == "RuntimeError: boom at epoch 2"
    assert tasks[1]["error_msg"] == "KeyboardInterrupt"
    assert tasks[2]["error_msg"] is None
    epochs = server.query("select trainingmodel_task_id as t, epoch from ds_otrainingmodel order by id", flow)
    ids = [t["id"] for t in tasks]
    assert [(r["t"], r["epoch"]) for r in epochs] == [(ids[0], 1), (ids[0], 2), (ids[1], 1), (ids[1], 2), (ids[2], 1)]


def test_early_stopping_ends_finished(server, use_client):
    flow = "kerasearly"
    use_client(server.url)
    x, y, _, _ = data()
    m = model()
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10)
    h = m.fit(x, y, epochs=20, verbose=0, callbacks=[ProvenanceCallback(flow), stop])
    assert len(h.history["loss"]) == 2
    assert dnnprov.flush(30)
    check_epochs(server, flow, h, validation=False)
    assert server.query("select num_epochs from ds_itrainingmodel", flow) == [{"num_epochs": 20}]
    assert {t["status"] for t in server.tasks(flow)} == {"FINISHED"}


def test_capture_never_raises_into_training_when_server_unreachable(use_client):
    from conftest import free_port
    use_client(f"http://127.0.0.1:{free_port()}")
    x, y, _, _ = data()
    m = model()
    h = m.fit(x[:256], y[:256], epochs=2, verbose=0, callbacks=[ProvenanceCallback("nowhere"), Slow(0)])
    m.evaluate(x[:64], y[:64], verbose=0)
    assert len(h.history["loss"]) == 2
    assert dnnprov.flush(10)


def test_learning_rate_schedule_hyperparameter(server, use_client):
    flow = "kerasschedule"
    use_client(server.url)
    x, y, _, _ = data()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.02, decay_steps=5, decay_rate=0.5)
    m = model(keras.optimizers.SGD(schedule))
    m.fit(x[:320], y[:320], epochs=3, batch_size=32, verbose=0,
          callbacks=[ProvenanceCallback(flow, hyperparameters=ALL_HYPERPARAMETERS)])
    assert dnnprov.flush(30)
    hp = server.query("select learning_rate, momentum from ds_itrainingmodel", flow)[0]
    assert close(hp["learning_rate"], 0.02) and hp["momentum"] == 0
    # the rate at the start of epochs 2 and 3 (after 10 and 20 steps): 0.02 * 0.5 ** (steps / 5)
    adapt = server.query("select new_lrate, epoch_id from ds_oadaptation order by id", flow)
    assert [(round(a["new_lrate"], 6), a["epoch_id"]) for a in adapt] == [(0.005, 2), (0.00125, 3)]


def test_rate_set_by_a_scheduler_for_the_first_epoch_is_the_initial_one(server, use_client):
    flow = "kerasfirstlr"
    use_client(server.url)
    x, y, _, _ = data()
    m = model(keras.optimizers.Adam(0.1))
    m.fit(x[:256], y[:256], epochs=2, verbose=0, callbacks=[
        ProvenanceCallback(flow), keras.callbacks.LearningRateScheduler(lambda epoch: 0.004)])
    assert dnnprov.flush(30)
    rows = server.query("select learning_rate from ds_itrainingmodel", flow)
    assert [round(r["learning_rate"], 6) for r in rows] == [0.004]
    assert server.query("select * from ds_oadaptation", flow) == []


def test_fit_that_died_unseen_is_closed_at_flush(server, use_client, monkeypatch):
    """Backends whose fit has no `finally` we can watch: the first fit of a model that raises
    is noticed at the next flush (or exit), since its frame is gone without on_train_end."""
    flow = "kerasunseen"
    use_client(server.url)
    monkeypatch.setattr(ProvenanceCallback, "_watch_optimizer", lambda self: None)
    x, y, _, _ = data()
    with pytest.raises(RuntimeError):
        model().fit(x[:256], y[:256], epochs=4, verbose=0,
                    callbacks=[ProvenanceCallback(flow, adaptation=False), Boom()])
    assert dnnprov.flush(30)
    assert dnnprov.flush(30)  # the first flush recorded the failure, this one delivered it
    [task] = server.tasks(flow)
    assert task["status"] == "FAILED" and task["error_msg"]


def test_keras_prov_style_one_call(server, use_client):
    """Keras-Prov's `model.provenance(...)`, then plain fit/evaluate calls."""
    from dnnprov.keras import provenance
    flow = "kerasprovstyle"
    use_client(server.url)
    x, y, xt, yt = data()
    m = model()
    provenance(m, dataflow_tag=flow, adaptation=True, hyps={"OPTIMIZER_NAME": True, "NUM_EPOCHS": True})
    h = m.fit(x[:512], y[:512], epochs=2, verbose=0)
    m.evaluate(xt, yt, verbose=0)
    assert dnnprov.flush(30)
    check_epochs(server, flow, h, validation=False)
    assert server.query("select optimizer_name, num_epochs from ds_itrainingmodel", flow) == [
        {"optimizer_name": "sgd", "num_epochs": 2}]
    assert len(server.query("select * from ds_otestingmodel", flow)) == 1
