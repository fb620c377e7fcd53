# chainr: build, test and deploy. `make deploy` installs into the current kubectl context and
# namespace; `make chaos` turns on the chaos monkey there. See docs/DEPLOYMENT.md.

IMAGE      ?= chainr
TAG        ?= $(shell node -p "require('./package.json').version")
RELEASE    ?= chainr
CHART      := deploy/helm/chainr
NAMESPACE  ?= $(shell kubectl config view --minify -o jsonpath='{..namespace}' 2>/dev/null)
HELM       ?= helm
# Extra `helm upgrade` arguments, e.g. HELM_ARGS='-f my-values.yaml'.
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
	  --reuse-values --set chaos.enabled=true $(HELM_ARGS)

chaos-off:
	$(HELM) upgrade $(RELEASE) $(CHART) \
	  --namespace $(if $(NAMESPACE),$(NAMESPACE),default) \
	  --reuse-values --set chaos.enabled=false

lint-chart:
	$(HELM) lint $(CHART) --set auth.allowUnauthenticated=true

template:
	$(HELM) template $(RELEASE) $(CHART) --set auth.allowUnauthenticated=true
