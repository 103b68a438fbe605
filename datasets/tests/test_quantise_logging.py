"""Building the int8 question encoder leaves the process's logging as configured. It set the
root logger to ERROR (to hush onnxruntime's quantisation tool), so a server that built it (the
first start of a fresh clone, a container without a kept cache, a new onnx version) logged no
access line and no warning (upstream failures, ...) for the rest of its life. Repro: make run
on a fresh clone printed no `chatbot.access` line; a second run (model cached) did."""

from __future__ import annotations

import logging

import pytest

onnx = pytest.importorskip("onnx")


def _tiny_model():
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), name="w")
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[weight],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_quantising_keeps_the_log_levels(caplog):
    from datasets.embedders import minilm_onnx

    root = logging.getLogger()
    level = root.level
    assert logging.getLogger("chatbot.access").isEnabledFor(logging.INFO)
    minilm_onnx._quantized(_tiny_model())
    assert root.level == level
    assert logging.getLogger("chatbot.access").isEnabledFor(logging.INFO)
    with caplog.at_level(logging.INFO):
        logging.getLogger("chatbot.access").info("GET /v1/health 200")
    assert "GET /v1/health 200" in caplog.text


def test_the_tools_own_warnings_stay_quiet_while_it_runs(caplog):
    from datasets.embedders import minilm_onnx

    with caplog.at_level(logging.INFO):
        minilm_onnx._quantized(_tiny_model())
    loud = [r for r in caplog.records if r.name == "root" and r.levelno < logging.ERROR]
    assert loud == [], [r.getMessage() for r in loud]
