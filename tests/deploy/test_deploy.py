"""The Dockerfile, compose.yaml and deploy/kubernetes/ agree with the gateway's flags, ports and paths.

No container runtime can run here (docs/operations.md says why), so the image's entrypoint is run
as a plain process on a copy of what the Dockerfile puts in /config, with TMPDIR as its only
writable place (what a read-only root filesystem with a /tmp volume leaves it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from engine.cli import build_parser
from engine.gateway.apiops import load_any_settings
from engine.gateway.check import check_configuration
from tests.support.gateway import http_request
from tests.support.redis_server import free_port
from tests.support.serving import ServeProcess, serve_process

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"


# ---- Dockerfile ---------------------------------------------------------------------------------
def dockerfile() -> dict[str, list[Any]]:
    """Instructions of the final stage: name -> [argument, ...] (JSON forms decoded)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)
    found: dict[str, list[Any]] = {}
    for line in stages[-1].splitlines()[1:]:
        if line.strip() and not line.startswith("#"):
            name, _, argument = line.strip().partition(" ")
            found.setdefault(name.upper(), []).append(argument.strip())
    return found


def exec_form(argument: str) -> list[str]:
    value = json.loads(argument)
    assert isinstance(value, list), f"use the exec (JSON) form: {argument}"
    return value


def test_the_build_stage_copies_everything_the_wheel_packages() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    build = re.split(r"^FROM ", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)[1]
    copied = {line.split()[1] for line in build.splitlines() if line.startswith("COPY ")}
    linked = {p.resolve().relative_to(ROOT).parts[0] for p in (ROOT / "engine").iterdir() if p.is_symlink()}
    assert set(packages) | linked | {"pyproject.toml"} <= copied | {"pyproject.toml"}
    assert "README.md" in build  # the project's readme is part of its metadata


def test_the_image_runs_serve_config_as_a_non_root_user_with_a_health_check() -> None:
    image = dockerfile()
    assert exec_form(image["ENTRYPOINT"][0]) == ["policygate", "serve", "/config"]
    user = image["USER"][0].split(":")[0]
    assert user.isdigit() and int(user) != 0
    assert "COPY samples/demo /config" in [f"COPY {a}" for a in image["COPY"]]
    settings = load_any_settings(ROOT / "samples" / "demo")
    exposed = {int(port) for port in " ".join(image["EXPOSE"]).split()}
    assert {settings.server.port, settings.server.admin_port} <= exposed
    health = image["HEALTHCHECK"][0]
    assert f"127.0.0.1:{settings.server.admin_port}/health" in health
    args = build_parser().parse_args([*exec_form(image["ENTRYPOINT"][0])[1:], *exec_form(image["CMD"][0])])
    assert args.config == "/config" and args.host == "0.0.0.0"


def test_the_entrypoint_serves_the_sample(tmp_path: Path) -> None:
    """ENTRYPOINT + CMD as a process on a copy of /config; then the HEALTHCHECK's command."""
    image = dockerfile()
    config = tmp_path / "config"
    shutil.copytree(ROOT / "samples" / "demo", config)
    demo = free_port()
    text = (config / "gateway.yaml").read_text().replace("port: 9000", f"port: {demo}").replace(":9000", f":{demo}")
    (config / "gateway.yaml").write_text(text.replace("admin-port: 9090", "admin-port: 0"))  # the OS picks it
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    before = sorted(p.relative_to(config) for p in config.rglob("*"))
    command = [*exec_form(image["ENTRYPOINT"][0]), *exec_form(image["CMD"][0])]
    assert command[:2] == ["policygate", "serve"]
    arguments = [str(config) if a == "/config" else a for a in command[2:]]
    environment = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(scratch)}
    with serve_process(*arguments, "--workers", "2", admin=True, pick_server=False,
                       env=environment) as served:
        _wait_for(served.url, "/petstore/pets", served)  # 200 once the demo backend is up too
        check = exec_form(image["HEALTHCHECK"][0].split("CMD", 1)[1].strip())
        assert check[0] == "python" and served.admin_url is not None
        probe = [sys.executable, *[a.replace("http://127.0.0.1:9090/", served.admin_url + "/") for a in check[1:]]]
        assert subprocess.run(probe, timeout=30).returncode == 0
    assert served.returncode == 0 and "Traceback" not in served.stderr, served.stderr
    assert list(scratch.iterdir()) == []  # the workers' metrics folder was removed at exit
    assert sorted(p.relative_to(config) for p in config.rglob("*")) == before  # nothing written to /config


def _wait_for(url: str, path: str, served: ServeProcess) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if http_request(url, "GET", path, timeout=2).status == 200:
                return
        except OSError:
            pass
        assert served.process.poll() is None, served.stderr
        assert time.monotonic() < deadline, "the gateway did not answer 200"
        time.sleep(0.1)


# ---- compose.yaml -------------------------------------------------------------------------------
def test_compose_runs_the_image_with_redis_and_a_configuration_that_checks(tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    gateway = compose["gateway"]
    assert "redis" in compose and gateway["read_only"] is True and "/tmp" in gateway["tmpfs"]
    source, target, _ = gateway["volumes"][0].split(":")
    assert target == "/config/gateway.yaml"
    config = tmp_path / "config"  # the image's /config with compose's gateway.yaml over it
    shutil.copytree(ROOT / "samples" / "demo", config)
    shutil.copy(ROOT / source, config / "gateway.yaml")
    report = check_configuration(config, environ=gateway["environment"])
    assert report.errors == 0, [d.format() for d in report.diagnostics]
    settings = load_any_settings(config, gateway["environment"])
    assert settings.cache is not None and settings.cache["external"] == "redis://redis:6379/0"
    published = {int(p.rsplit(":", 1)[1]) for p in gateway["ports"]}
    assert published == {settings.server.port, settings.server.admin_port}


# ---- Kubernetes ---------------------------------------------------------------------------------
def manifests() -> dict[str, dict[str, Any]]:
    """kind -> the one manifest of that kind, from the files kustomization.yaml lists."""
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    listed = kustomization["resources"]
    assert sorted(listed) == sorted(p.name for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")
    found: dict[str, dict[str, Any]] = {}
    for name in listed:
        for document in yaml.safe_load_all((KUBERNETES / name).read_text()):
            assert document["kind"] not in found
            found[document["kind"]] = document
    return found


def test_the_kubernetes_manifests_agree_with_the_gateway(tmp_path: Path) -> None:
    k8s = manifests()
    deployment, secret, config_map = k8s["Deployment"], k8s["Secret"], k8s["ConfigMap"]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (container,) = pod["spec"]["containers"]

    # the ConfigMap mounted at /config is a configuration that passes `policygate check`
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    (config_volume,) = [n for n, v in volumes.items() if v.get("configMap", {}).get("name") == config_map["metadata"]["name"]]
    assert mounts[config_volume] == "/config"
    config = tmp_path / "config"
    config.mkdir()
    for name, text in config_map["data"].items():
        (config / name).write_text(text)
    environ = {}
    for variable in container["env"]:
        reference = variable["valueFrom"]["secretKeyRef"]
        assert reference["name"] == secret["metadata"]["name"]
        environ[variable["name"]] = secret["stringData"][reference["key"]]
    report = check_configuration(config, environ=environ)
    assert report.errors == 0, [d.format() for d in report.diagnostics]
    settings = load_any_settings(config, environ)
    assert settings.secret_names >= {"redis-url"}  # the Redis URL comes from the Secret

    # the container's arguments are valid `serve` flags; ports and probes match the configuration
    args = build_parser().parse_args(["serve", "/config", *container["args"]])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": args.port or settings.server.port, "admin": args.admin_port or settings.server.admin_port}
    assert getattr(settings.server, "admin_host", "0.0.0.0") == "0.0.0.0"  # probes come from the node
    assert (args.host or settings.server.host) == "0.0.0.0"
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "admin"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "admin"}
    annotations = pod["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == ports["admin"] and annotations["prometheus.io/path"] == "/metrics"
    assert {"/health", "/ready", "/metrics"} <= _admin_routes(settings)

    # shutdown: the drain (server.graceful-timeout) and the preStop pause fit in the grace period
    pause = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pod["spec"]["terminationGracePeriodSeconds"] > pause + settings.server.graceful_timeout

    # hardened: non-root, read-only root filesystem with a writable /tmp, resources requested
    security = container["securityContext"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True and security["readOnlyRootFilesystem"] is True
    assert "emptyDir" in volumes[next(n for n, p in mounts.items() if p == "/tmp")]
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()

    # Service, HPA and PDB point at this Deployment's pods
    service = k8s["Service"]["spec"]
    assert service["selector"].items() <= labels.items()
    assert {p["targetPort"] for p in service["ports"]} == {"http"}
    target = k8s["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert k8s["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()


def _admin_routes(settings: Any) -> set[str]:
    from engine.gateway.admin import create_admin_app
    from engine.gateway.runner import GatewayServer

    server = GatewayServer(settings, admin_port=False)
    server.prepare()
    assert server.services is not None
    return {rule.rule for rule in create_admin_app(server.services).url_map.iter_rules()}
