"""Build the platform's images without a registry or an index, then report on them.

    python docker/images.py            # base image, wheelhouse, every image, sizes and start-to-healthy
    python docker/images.py --no-report

`make images` runs this. Each step is skipped when its inputs are unchanged:

1. the Debian base (docker/base/build.sh: debootstrap + `docker import`, Python 3.11 from Debian);
2. the wheelhouse (docker/wheelhouse/): every third-party package the images install, as wheels
   built on this host with the pins of constraints.txt, so no build step needs a network;
3. the images, one `docker build` at a time (the machine is shared), with
   PYTHON_IMAGE=<the base> and PIP_NO_INDEX=true; Docker's layer cache makes an unchanged
   image a matter of seconds.

Then, unless --no-report, each image's size and the time one container of it takes from
`docker run` to healthy (health checks every second, read-only root file system as in compose).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
WHEELHOUSE = DOCKER / "wheelhouse"
BASE_IMAGE = "bnpl-base:bookworm"
PYPROJECTS = [
    "libs/common/pyproject.toml",
    "services/user/pyproject.toml",
    "services/credit/pyproject.toml",
    "services/gateway/pyproject.toml",
    "services/psp-sandbox/pyproject.toml",
    "model/pyproject.toml",
]
WHEEL_INPUTS = ["constraints.txt", "docker/build-requirements.txt", "docker/moto/requirements.txt", *PYPROJECTS]
# tag -> Dockerfile; the compose files use these tags.
IMAGES = {
    "bnpl-model:local": "model/Dockerfile",
    "bnpl-user:local": "services/user/Dockerfile",
    "bnpl-credit:local": "services/credit/Dockerfile",
    "bnpl-gateway:local": "services/gateway/Dockerfile",
    "bnpl-psp-sandbox:local": "services/psp-sandbox/Dockerfile",
    "bnpl-moto:local": "docker/moto/Dockerfile",
}
# What a lone container needs to start (compose gives each much more): a writable data directory
# on the read-only root, and settings that are not defaulted.
LOCAL_ENV = {"BNPL_ENV": "local", "COGNITO_USER_POOL_ID": "us-east-1_report", "COGNITO_CLIENT_IDS": "report"}
SERVICE_RUN = ["--tmpfs", "/var/lib/bnpl:uid=10001,gid=10001", *[f"-e{k}={v}" for k, v in LOCAL_ENV.items()]]
REPORT_RUN = {
    "bnpl-model:local": [],
    "bnpl-user:local": SERVICE_RUN,
    "bnpl-credit:local": SERVICE_RUN,
    "bnpl-gateway:local": SERVICE_RUN,
    "bnpl-psp-sandbox:local": SERVICE_RUN,
    "bnpl-moto:local": ["--tmpfs", "/data:uid=10001,gid=10001"],
}


def log(message: str) -> None:
    print(f"images: {message}", flush=True)


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, text=True, check=False, **kwargs)  # type: ignore[call-overload]


def inputs_hash(paths: list[str]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.encode() + b"\0" + (ROOT / path).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_base() -> None:
    if run(["bash", str(DOCKER / "base" / "build.sh"), BASE_IMAGE]).returncode != 0:
        sys.exit("images: the base image could not be built (see above)")


def build_wheelhouse() -> None:
    key = inputs_hash(WHEEL_INPUTS)
    stamp = WHEELHOUSE / ".inputs"
    if stamp.exists() and stamp.read_text().strip() == key:
        log(f"wheelhouse is up to date (inputs {key})")
        return
    started = time.monotonic()
    deps = run([sys.executable, str(DOCKER / "deps.py"), *PYPROJECTS], capture_output=True)
    if deps.returncode != 0:
        sys.exit(f"images: docker/deps.py failed: {deps.stderr}")
    with tempfile.TemporaryDirectory(prefix="wheelhouse-", dir=DOCKER) as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(deps.stdout)
        out = Path(tmp) / "wheels"
        pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "-w", str(out)]
        args = [*pip, "-c", "constraints.txt", "-r", str(requirements)]
        args += ["-r", "docker/build-requirements.txt", "-r", "docker/moto/requirements.txt"]
        if run(args).returncode != 0:
            sys.exit("images: pip wheel failed (see above)")
        for old in WHEELHOUSE.glob("*.whl"):
            old.unlink()
        for wheel in out.glob("*.whl"):
            shutil.move(str(wheel), WHEELHOUSE / wheel.name)
    stamp.write_text(key + "\n")
    size = sum(p.stat().st_size for p in WHEELHOUSE.glob("*.whl")) / 1e6
    count = len(list(WHEELHOUSE.glob("*.whl")))
    log(f"wheelhouse: {count} wheels, {size:.0f} MB, built in {time.monotonic() - started:.0f} s")


def build_images(only: list[str]) -> None:
    for tag, dockerfile in IMAGES.items():
        if only and tag.split(":")[0].removeprefix("bnpl-") not in only:
            continue
        started = time.monotonic()
        args = ["docker", "build", "-q", "-f", dockerfile, "-t", tag]
        args += ["--build-arg", f"PYTHON_IMAGE={BASE_IMAGE}", "--build-arg", "PIP_NO_INDEX=true", "."]
        result = run(args, capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
        if result.returncode != 0:
            print(result.stdout[-4000:], result.stderr[-8000:], sep="\n", file=sys.stderr)
            sys.exit(f"images: building {tag} from {dockerfile} failed")
        log(f"{tag} built in {time.monotonic() - started:.0f} s")


def start_to_healthy(tag: str, timeout: float = 60.0) -> float | None:
    args = ["docker", "run", "-d", "--rm", "--read-only", "--tmpfs", "/tmp", "--health-interval", "1s"]
    args += ["--health-start-period", "0s", *REPORT_RUN[tag], tag]
    started = time.monotonic()
    result = run(args, capture_output=True)
    if result.returncode != 0:
        log(f"{tag} did not start: {result.stderr.strip()}")
        return None
    container = result.stdout.strip()
    try:
        while time.monotonic() - started < timeout:
            state = run(["docker", "inspect", "--format", "{{json .State}}", container], capture_output=True)
            status = json.loads(state.stdout or "{}")
            if status.get("Health", {}).get("Status") == "healthy":
                return time.monotonic() - started
            if status.get("Status") not in ("created", "running"):
                break
            time.sleep(0.2)
        logs = run(["docker", "logs", "--tail", "20", container], capture_output=True)
        log(f"{tag} was not healthy within {timeout:.0f} s:\n{logs.stdout}{logs.stderr}")
        return None
    finally:
        run(["docker", "rm", "-f", container], capture_output=True)


def report() -> None:
    print(f"{'image':<22} {'size':>8}  start to healthy", flush=True)
    for tag in IMAGES:
        size = run(["docker", "image", "inspect", "--format", "{{.Size}}", tag], capture_output=True).stdout.strip()
        seconds = start_to_healthy(tag)
        healthy = f"{seconds:.1f} s" if seconds is not None else "not healthy"
        print(f"{tag:<22} {int(size or 0) / 1e6:>5.0f} MB  {healthy}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-report", action="store_true", help="skip the sizes and start-to-healthy report")
    parser.add_argument("only", nargs="*", help="build only these images (model, user, credit, gateway, moto)")
    args = parser.parse_args()
    if shutil.which("docker") is None or run(["docker", "info"], capture_output=True).returncode != 0:
        sys.exit("images: no Docker engine answers here (`docker info` fails)")
    started = time.monotonic()
    build_base()
    build_wheelhouse()
    build_images(args.only)
    log(f"all built in {time.monotonic() - started:.0f} s")
    if not args.no_report:
        report()


if __name__ == "__main__":
    main()
