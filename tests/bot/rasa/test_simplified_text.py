"""The pipeline's first component reads traditional characters as simplified ones (and full-width letters and digits in
ASCII) at prediction, and leaves the training data as written (bot/rasa/simplified_text.py)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.launcher.processes import CHILD_ENV, RASA
from tests.support import ROOT

pytestmark = pytest.mark.integration  # runs in Rasa's Python 3.10 environment

RASA_PYTHON = RASA.parent / "python"

READ = """
import json
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.rasa.simplified_text import SimplifiedText

component = SimplifiedText.create({}, None, None, ExecutionContext(GraphSchema({}), node_name="simplified"))
messages = component.process([Message(data={"text": t}) for t in ["開辦企業需要什麼材料", "开办企业需要什么材料", "/affirm", "Ｃ１駕照到期怎麼換"]])
examples = [Message(data={"text": "謝謝", "intent": "thank"})]
trained = component.process_training_data(TrainingData(training_examples=examples))
print(json.dumps({"read": [m.get("text") for m in messages], "output": [m.as_dict(only_output_properties=True).get("text") for m in messages],
                  "training": [m.get("text") for m in trained.training_examples]}, ensure_ascii=False))
"""


def test_a_message_is_read_in_simplified_characters_and_training_examples_are_kept() -> None:
    done = subprocess.run([str(RASA_PYTHON), "-c", READ], cwd=ROOT, env={**os.environ, **CHILD_ENV},
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["read"] == ["开办企业需要什么材料", "开办企业需要什么材料", "/affirm", "C1驾照到期怎么换"]
    assert result["output"] == result["read"]  # the parse Rasa hands the actions carries the simplified text
    assert result["training"] == ["謝謝"]
