# The two commands a newcomer needs: `make run` and `make test`.
# Both first create whatever is missing (scripts/setup.sh), idempotently.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python

.PHONY: help setup run test lint train eval bench clean

help:
	@echo "make run    start the assistant (Rasa, actions, gateway, web chat) on this machine"
	@echo "make test   run the whole test suite (PostgreSQL/Redis parts skipped, with the reason, if absent)"
	@echo "make eval   train and evaluate the NLU model on the held-out set, plus cross-validation"
	@echo "make bench  run the benchmarks in bench/ and print figures"
	@echo "make lint   ruff"

setup:
	@scripts/setup.sh all

run: setup
	@$(PY) -m welcome.run

test: setup
	@scripts/test.sh $(ARGS)

lint: setup
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

train: setup
	@$(PY) -m welcome.train

eval: setup
	@$(PY) -m welcome.evaluate $(ARGS)

bench: setup
	@$(PY) -m bench $(ARGS)

clean:
	rm -rf .venv .venv-rasa .rasa models results var
