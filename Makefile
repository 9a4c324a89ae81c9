# 政务服务智能问答助手 — the two commands are `make run` and `make test`; both set everything up.
SHELL := /bin/bash
APP_PY := var/venv-app/bin/python
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export HF_HUB_OFFLINE := 1

.PHONY: run test test-fast setup index train chat query lint eval eval-nlu eval-nlu-heldout eval-unseen bench report purge clean

## make run: set up, build the index if the knowledge base changed, train Rasa if its data changed,
## start the action server, the Rasa server, the hall API and web page, and the Telegram bot when
## TELEGRAM_BOT_TOKEN is set (Ctrl-C stops them all)
run: setup
	@# A rebuild that fails (a broken guide, the gate refusing) must not keep the published version from serving.
	@$(APP_PY) index_builder.py build --if-changed || echo "索引没有重建（原因见上）；有已发布的版本时照常用它启动，修好后运行 make index"
	$(APP_PY) -m bot.launcher.stack run

## make test: set up, lint, and run the test suite (end-to-end tests start real Rasa and action servers)
test: setup
	@bash scripts/setup_browser.sh
	@bash scripts/setup_servers.sh
	$(APP_PY) -m ruff check .
	$(APP_PY) -m pytest -q tests

## make test-fast: lint and the unit tests only (no model, index, server or subprocess; well under a minute)
test-fast: setup
	$(APP_PY) -m ruff check .
	$(APP_PY) -m pytest -q -m "not integration and not e2e" tests

setup:
	@bash scripts/setup.sh

index: setup
	$(APP_PY) index_builder.py build --if-changed

## make train: train the Rasa model (only when config, domain or data changed)
train: setup
	$(APP_PY) -m bot.launcher.stack train

## make chat: talk to the assistant in this terminal (rasa shell)
chat: setup index
	$(APP_PY) -m bot.launcher.stack chat

## make query: the retrieval prompt (no Rasa): see what the knowledge base answers
query: setup index
	$(APP_PY) index_builder.py query

lint: setup
	$(APP_PY) -m ruff check .

## make eval: evaluate the published index on tests/data/questions.yml (report in var/reports/)
eval: index
	$(APP_PY) index_builder.py eval

## make eval-nlu: 5-fold cross-validation of the NLU (report in var/reports/nlu/)
eval-nlu: setup
	$(APP_PY) -m bot.launcher.nlu_eval

## make eval-nlu-heldout: the NLU on questions about service items it was never trained on
## (tests/data/unseen/questions.yml; trains the model first if needed; report in var/reports/nlu/)
HELDOUT ?= tests/data/unseen/questions.yml
eval-nlu-heldout: setup
	$(APP_PY) -m bot.launcher.nlu_eval --heldout $(HELDOUT)

## make eval-unseen: guides and questions no calibration or training step saw (every tests/data/unseen*/), added
## to the sample and replacing it: retrieval and the whole stack (trains the model first if needed; var/reports/bench-unseen*.json)
HELD_OUT_SETS := $(sort $(notdir $(patsubst %/questions.yml,%,$(wildcard tests/data/unseen*/questions.yml))))
eval-unseen: setup
	set -e; for name in $(HELD_OUT_SETS); do $(APP_PY) benchmarks/eval_unseen.py --set $$name; done

## make bench: the benchmark scripts (numbers go into the README)
bench: index
	$(APP_PY) benchmarks/run_all.py

## make report: the admin report (HTML, var/reports/admin-report-<date>.html)
report: setup
	$(APP_PY) index_builder.py report

## make purge: delete conversations and records older than retention_days (settings.yml); run daily from cron
purge: setup
	$(APP_PY) index_builder.py purge

clean:
	rm -rf var/index var/reports
