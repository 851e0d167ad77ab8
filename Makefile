# The two commands a newcomer needs: `make run` and `make test`.
# Both first create whatever is missing (scripts/setup.sh), idempotently.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python

.PHONY: help setup run test lint train eval bench clean

help:
	@echo "make run    start the assistant (Rasa, actions, gateway, web chat) on this machine"
	@echo "make test   run the whole test suite (PostgreSQL/Redis parts skipped, with the reason, if absent)"
	@echo "make eval   train and evaluate the NLU model on the held-out sets (Italian, English), plus search by paraphrase"
	@echo "make bench  run the benchmarks in bench/ and print figures"
	@echo "make lint   ruff and import-linter (the layered layout)"

setup:
	@scripts/setup.sh all

run: setup
	@$(PY) -m devtools.run

test: setup
	@scripts/test.sh $(ARGS)

lint: setup
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports --no-cache

train: setup
	@$(PY) -m devtools.train

eval: setup
	@$(PY) -m devtools.evaluate $(ARGS)
	@$(PY) -m devtools.english_eval
	@$(PY) -m devtools.search_eval

bench: setup
	@$(PY) -m bench $(ARGS)

clean:
	rm -rf .venv .venv-rasa .rasa models results var
