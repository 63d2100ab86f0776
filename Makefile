# Two commands for a new user: `make run` (the whole system) and `make test` (the whole test suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PACKAGES := -e ./shared -e ./services/scheduling -e ./services/enrolment -e ./services/assessment \
            -e ./services/notification -e ./services/console -e .

.PHONY: venv run test demo demo-programme unit token docs docs-check locks bench profile faults clean-data

$(STAMP): constraints.txt requirements-dev.txt requirements-deploy.txt pyproject.toml shared/pyproject.toml \
          $(wildcard services/*/pyproject.toml)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt $(PACKAGES) -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

run: venv  ## start NATS, PostgreSQL, the four services, the console and a local identity provider; Ctrl-C stops them
	$(BIN)/python -m ttct_dev.run

test: venv  ## every test (unit, integration, e2e, deploy) against servers the harness starts
	$(BIN)/python -m pytest -m "not bench" -q

unit: venv
	$(BIN)/python -m pytest -m unit -q

demo: venv  ## the seed story end to end on a private stack; exits non-zero unless every notice arrived signed
	$(BIN)/python -m ttct_dev.demo

docs: venv  ## regenerate docs/events (AsyncAPI, event schemas) and docs/api (OpenAPI per service + gateway)
	$(BIN)/python -m ttct_dev.docs write

docs-check: venv
	$(BIN)/python -m ttct_dev.docs check

locks: venv  ## regenerate the images' hash-locked requirements (docker/requirements/) after a change of pins
	$(BIN)/python -m ttct_dev.locks write

bench: venv  ## the benchmark of issue 6 on a private durable stack: docs/benchmarks.md and .json (hours at full size)
	$(BIN)/python -m ttct_dev.bench $(BENCH_ARGS)

profile: venv  ## py-spy profiles of the four services taking enrolments, then lists: docs/profiles.md, docs/profiles-lists.md (about 4 minutes)
	$(BIN)/python -m ttct_dev.bench.profile --workload enrolments $(PROFILE_ARGS)
	$(BIN)/python -m ttct_dev.bench.profile --workload lists $(PROFILE_ARGS)

faults: venv  ## the services under load while replicas, NATS nodes, PostgreSQL die: docs/reliability.md (≤ 10 min; FAULTS_ARGS=--quick)
	$(BIN)/python -m ttct_dev.faults $(FAULTS_ARGS)

ROLE ?= centre-staff
CENTRE ?= hau-loc
token: venv  ## a bearer token from the local identity provider: make token ROLE=organisation ORG=xa-hoa-loc
	@$(BIN)/python -m ttct_dev.tokens --role $(ROLE) $(if $(filter organisation,$(ROLE)),--org $(ORG),) \
	  $(if $(filter centre-staff lecturer integration,$(ROLE)),--centre $(CENTRE),) $(if $(SCOPE),--scope "$(SCOPE)",) \
	  $(if $(LECTURER),--lecturer-id $(LECTURER),)

demo-programme: venv  ## a whole programme for Hậu Lộc: plan, clash, import, waiting list, attendance, results, certificates, figures, a merge of its communes
	$(BIN)/python -m ttct_dev.programme_demo

clean-data:  ## forget the local data of `make run`
	$(BIN)/python -m ttct_dev.stack down --data-dir .data || true
	rm -rf .data
