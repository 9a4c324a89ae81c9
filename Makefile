# 政务服务智能问答助手 — the two commands are `make run` and `make test`; both set everything up.
SHELL := /bin/bash
APP_PY := var/venv-app/bin/python
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export HF_HUB_OFFLINE := 1

.PHONY: run test setup index query lint eval bench clean

## make run: set up, build the index if the knowledge base changed, open the question prompt
run: setup index
	$(APP_PY) index_builder.py query

## make test: set up, lint, and run the offline test suite
test: setup
	$(APP_PY) -m ruff check .
	$(APP_PY) -m pytest -q tests

setup:
	@bash scripts/setup.sh

index: setup
	$(APP_PY) index_builder.py build --if-changed

lint: setup
	$(APP_PY) -m ruff check .

## make eval: evaluate the published index on tests/data/questions.yml (report in var/reports/)
eval: index
	$(APP_PY) index_builder.py eval

## make bench: the benchmark scripts (numbers go into the README)
bench: index
	$(APP_PY) benchmarks/run_all.py

clean:
	rm -rf var/index var/reports
