"""What a trained model is fingerprinted by, for our Rasa project and for another one (the benchmark's
floor, benchmarks/floor/): the same files of each project, paths relative to the repository, so our
fingerprint (and with it every trained model's name) stays what it was before projects were a parameter."""

from __future__ import annotations

from bot.launcher.model import model_fingerprint, model_inputs
from knowledge.settings import ROOT

FLOOR = ROOT / "benchmarks" / "floor"


def test_our_model_inputs_are_our_files_and_our_components() -> None:
    inputs = model_inputs()
    assert inputs[:4] == ["config.yml", "domain.yml", "data", "requirements/rasa.txt"]
    assert "bot/rasa/jieba_tokenizer.py" in inputs and all((ROOT / name).exists() for name in inputs)


def test_another_project_is_fingerprinted_by_its_own_files() -> None:
    assert model_inputs(FLOOR) == ["benchmarks/floor/config.yml", "benchmarks/floor/domain.yml", "benchmarks/floor/data",
                                   "requirements/rasa.txt"]
    assert model_fingerprint(FLOOR) != model_fingerprint() == model_fingerprint(ROOT)
