"""The Rasa project itself, checked in the Rasa environment (Python 3.10): data validation and our
tokenizer component."""

from __future__ import annotations

import json
import os
import subprocess

from support import ROOT

from bot.stack import CHILD_ENV, RASA

RASA_PYTHON = RASA.parent / "python"


def test_rasa_data_validate_is_clean() -> None:
    done = subprocess.run([str(RASA), "data", "validate", "--fail-on-warnings"], cwd=ROOT, env={**os.environ, **CHILD_ENV},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


TOKENIZE = """
import json
from rasa.shared.nlu.training_data.message import Message
from bot.jieba_tokenizer import GuideJiebaTokenizer, load_guide_words
load_guide_words()
tokenizer = GuideJiebaTokenizer({**GuideJiebaTokenizer.get_default_config()}, None, None)  # storage unused for tokenizing
out = {}
for text in ["我想 办 用水报装", "企业简易注销登记要多久", "ETC 办理  \\t 要啥"]:
    out[text] = [t.text for t in tokenizer.tokenize(Message(data={"text": text}), "text")]
print(json.dumps(out, ensure_ascii=False))
"""


def test_tokenizer_drops_whitespace_and_knows_guide_names() -> None:
    done = subprocess.run([str(RASA_PYTHON), "-c", TOKENIZE], cwd=ROOT, env={**os.environ, **CHILD_ENV},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    tokens = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(token.strip() for sentence in tokens.values() for token in sentence)
    assert "用水报装" in tokens["我想 办 用水报装"]
    assert "企业简易注销登记" in tokens["企业简易注销登记要多久"]


FEATURIZE = """
import json
import numpy as np
from rasa.shared.nlu.training_data.message import Message
from bot.use_featurizer import USESentenceFeaturizer
featurizer = USESentenceFeaturizer("use", {**USESentenceFeaturizer.get_default_config(), "alias": "use"})
texts = ["今天天气怎么样", "明天会下雨吗", "开办企业需要什么材料", "注册公司要带哪些资料"]
messages = featurizer.process([Message(data={"text": t}) for t in texts] + [Message(data={})])
vectors = [m.get_dense_features("text")[1].features[0] for m in messages[:4]]
print(json.dumps({"dims": [v.shape[0] for v in vectors], "sim": np.round(np.array(vectors) @ np.array(vectors).T, 3).tolist(),
                  "empty": messages[4].features == []}))
"""


def test_use_featurizer_adds_a_sentence_vector_that_groups_by_meaning() -> None:
    done = subprocess.run([str(RASA_PYTHON), "-c", FEATURIZE], cwd=ROOT, env={**os.environ, **CHILD_ENV},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["dims"] == [512] * 4 and result["empty"]
    weather, _rain, setup, _register = result["sim"]
    assert weather[1] > weather[2] and weather[1] > weather[3]  # weather is nearer weather than business
    assert setup[3] > setup[0] and setup[3] > setup[1]
