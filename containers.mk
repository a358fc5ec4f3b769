# Containers: images built without a registry, the compose stack, the container tests.
# Included from the root Makefile. docker/images.py and docker/stack.py say how; the README's
# container section says how long each step takes.
.PHONY: images compose-up compose-down test-containers

images: $(STAMP) ## build every image locally (Debian base by debootstrap, host wheelhouse); print sizes and start-to-healthy
	$(PY) docker/images.py

compose-up: images ## the platform in containers on http://127.0.0.1:8000 (docker compose v2 or docker-compose v1)
	$(PY) docker/stack.py up

compose-down: ## stop and remove the compose stack's containers (data kept; VOLUMES=1 drops it too)
	$(PY) docker/stack.py down $(if $(VOLUMES),--volumes)

test-containers: $(STAMP) ## build the images, run the whole journey and the fault tests in containers (needs Docker)
	$(PY) -m pytest tests/containers -q -rs
