"""The compose stack without a registry: `make compose-up` / `compose-down` and the container
tests drive it through this module.

    python docker/stack.py up      # up -d with both compose files, then wait until every service is healthy
    python docker/stack.py down    # stop and remove the containers (volumes kept; --volumes drops them)

Either compose works: `docker compose` (v2) when the plugin answers, else `docker-compose` (v1,
Debian's package). v1 has no `up --wait`, so waiting for health is done here, the same way for
both: every service's container healthy, the one-shot init exited 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.no-registry.yml")
ONE_SHOT = frozenset({"init"})


def engine_problem() -> str | None:
    """Why no Docker engine can be used here, or None when one answers."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    result = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        return f"no Docker engine answers (`docker info`: {result.stderr.strip()[:200]})"
    return None


def compose_command() -> list[str] | None:
    """`docker compose` (v2) if the plugin answers, else `docker-compose` (v1), else None."""
    v2 = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if v2.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


class StackError(RuntimeError):
    """A compose command failed or the stack did not become healthy."""


@dataclass
class Stack:
    project: str = "bnpl"
    gateway_port: int = 8000
    psp_port: int = 8090  # the sandbox PSP's card page, which the shopper's browser opens
    files: tuple[str, ...] = COMPOSE_FILES
    command: list[str] = field(default_factory=lambda: compose_command() or [])

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def compose(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        if not self.command:
            raise StackError("no compose command: install docker-compose (apt-get install -y docker-compose)")
        env = {**os.environ, "GATEWAY_HOST_PORT": str(self.gateway_port), "PSP_HOST_PORT": str(self.psp_port)}
        files = [arg for name in self.files for arg in ("-f", name)]
        cmd = [*self.command, "-p", self.project, *files, *args]
        result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise StackError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def services(self) -> list[str]:
        return self.compose("config", "--services").stdout.split()

    def containers(self) -> dict[str, str]:
        """Service -> container id, from the labels both compose versions set (one docker call,
        where `compose ps` would start a compose process per service)."""
        result = subprocess.run(
            [
                "docker",
                "ps",
                "-a",
                "--filter",
                f"label=com.docker.compose.project={self.project}",
                "--format",
                '{{.ID}} {{.Label "com.docker.compose.service"}}',
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return {service: cid for cid, service in (line.split() for line in result.stdout.splitlines() if line)}

    def container(self, service: str) -> str:
        """The id of the service's container (running or not); empty when there is none."""
        return self.containers().get(service, "")

    def network(self, name: str) -> str:
        """The engine's name of one of the compose file's networks (`<project>_<name>`)."""
        return f"{self.project}_{name}"

    def up(self, *extra: str) -> None:
        self.compose("up", "-d", "--no-build", *extra)

    def down(self, *, volumes: bool = False) -> None:
        self.compose("down", "--remove-orphans", *(["--volumes"] if volumes else []), check=False)

    def states(self, services: list[str]) -> dict[str, dict[str, object]]:
        """Each service's container state (docker inspect's State), keyed by service."""
        ids = self.containers()
        present = [ids[service] for service in services if service in ids]
        inspected = subprocess.run(
            ["docker", "inspect", "--format", "{{json .State}}", *present],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.splitlines()
        by_id = dict(zip(present, (json.loads(line) for line in inspected), strict=False))
        return {service: by_id.get(ids.get(service, ""), {}) for service in services}

    def wait_healthy(self, timeout: float = 300) -> float:
        """Wait until every service is healthy (init: exited 0); return the seconds waited."""
        started = time.monotonic()
        services = self.services()
        waiting: list[str] = []
        while time.monotonic() - started < timeout:
            waiting = []
            for service, state in self.states(services).items():
                if service in ONE_SHOT:
                    if state.get("Status") == "exited" and state.get("ExitCode") != 0:
                        raise StackError(f"{service} exited {state.get('ExitCode')}:\n{self.logs(service)}")
                    if state.get("Status") != "exited":
                        waiting.append(service)
                    continue
                health = (state.get("Health") or {}).get("Status")  # type: ignore[union-attr]
                if state.get("Status") != "running" or health != "healthy":
                    waiting.append(f"{service} ({state.get('Status') or 'no container'}, {health or 'no health'})")
            if not waiting:
                return time.monotonic() - started
            time.sleep(0.5)
        raise StackError(f"not healthy within {timeout:.0f} s: {', '.join(waiting)}\n{self.logs()}")

    def logs(self, *services: str, tail: int = 80) -> str:
        result = self.compose("logs", "--no-color", "--tail", str(tail), *services, check=False)
        return result.stdout + result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description="the compose stack without a registry")
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--volumes", action="store_true", help="down: remove the named volumes too (all data)")
    parser.add_argument("--project", default=os.environ.get("COMPOSE_PROJECT_NAME", "bnpl"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_HOST_PORT", "8000")))
    args = parser.parse_args()
    problem = engine_problem()
    if problem:
        sys.exit(f"stack: {problem}")
    stack = Stack(project=args.project, gateway_port=args.port)
    print(f"stack: using `{' '.join(stack.command) or 'no compose'}` with {' '.join(COMPOSE_FILES)}", flush=True)
    try:
        if args.action == "up":
            stack.up()
            seconds = stack.wait_healthy()
            print(f"stack: healthy in {seconds:.0f} s; the demo shop and checkout page: {stack.gateway}/", flush=True)
        else:
            stack.down(volumes=args.volumes)
    except StackError as exc:
        sys.exit(f"stack: {exc}")


if __name__ == "__main__":
    main()
