"""The bundled NATS's users in the Helm chart: one per service plus `admin`, rendered from the exported permission
map (deploy/helm/ttct/files/nats-permissions.json, province substituted) into the ConfigMap the NATS chart includes,
each password an environment reference set from a Secret. Rendered with the Helm SDK, as test_deploy_chart.py;
the rendered auth.conf is then checked by nats-server itself (`nats-server -t`).

The NATS subchart is not vendored (no network), so its own objects are not rendered here: what is checked is our
ConfigMap and the values that wire it into the NATS chart (mount, include, password variables), which the chart
itself refuses to render without.
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from ttct.nats_permissions import USERS, password_env, permissions

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "ttct"
PERMISSION_FILE = CHART / "files" / "nats-permissions.json"
RELEASE, NAMESPACE = "ttct", "ttct"
EXAMPLES = {"single-centre": CHART / "values-single-centre.yaml", "province": CHART / "values-province.yaml"}
USER_LINE = re.compile(
    r'\{user: "(?P<user>[^"]+)", password: \$(?P<env>[A-Z0-9_]+), permissions: \{\n'
    r'\s*publish: \{allow: (?P<publish>\[.*\])\}\n'
    r'\s*subscribe: \{allow: (?P<subscribe>\[.*\])\}\n'
    r'\s*\}\}'
)


def _render(values: dict[str, Any], name: str = RELEASE) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=name, namespace=NAMESPACE, is_install=True)
    return [d for template, text in sorted(manifests.items()) if not template.endswith("NOTES.txt")
            for d in yaml.safe_load_all(text) if d]


def _auth_conf(values: dict[str, Any], name: str = RELEASE) -> str:
    (config_map,) = [o for o in _render(values, name)
                     if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-nats-auth")]
    return config_map["data"]["auth.conf"]


def _users(auth_conf: str) -> dict[str, dict[str, Any]]:
    """The users of a rendered `authorization` block: {user: {publish: [...], subscribe: [...], env: VAR}}."""
    found = {m["user"]: {"publish": json.loads(m["publish"]), "subscribe": json.loads(m["subscribe"]), "env": m["env"]}
             for m in USER_LINE.finditer(auth_conf)}
    assert auth_conf.count("{user:") == len(found), "a user the parser did not read"
    assert auth_conf.lstrip().startswith("authorization {")
    return found


def _example(name: str) -> dict[str, Any]:
    return yaml.safe_load(EXAMPLES[name].read_text())


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_the_bundled_nats_gets_one_user_per_service_plus_admin_with_the_files_permissions(example):
    values = _example(example)
    assert values["nats"]["enabled"] is True
    users = _users(_auth_conf(values))
    exported = json.loads(PERMISSION_FILE.read_text().replace("__PROVINCE__", values["province"]))["users"]
    assert set(users) == set(exported) == set(USERS)  # admin, scheduling, enrolment, assessment, notification
    for user, rights in users.items():
        assert rights["publish"] == exported[user]["publish"]["allow"], user
        assert rights["subscribe"] == exported[user]["subscribe"]["allow"], user
        # No password in the chart: nats-server reads each from its environment.
        assert rights["env"] == exported[user]["password_env"] == password_env(user)


def test_the_province_is_substituted_everywhere():
    values = {"province": "nghe-an", "nats": {"enabled": True}}
    auth_conf = _auth_conf(values)
    assert "__PROVINCE__" not in auth_conf and "thanh-hoa" not in auth_conf
    users = _users(auth_conf)
    # The same rights as the topology gives this province's users (what the integration tests prove on a server).
    for user, rights in permissions("nghe-an").items():
        assert users[user]["publish"] == rights["publish"]["allow"], user
        assert users[user]["subscribe"] == rights["subscribe"]["allow"], user
    assert "ttct.nghe-an.*.scheduling.>" in users["scheduling"]["publish"]
    assert "$JS.API.CONSUMER.MSG.NEXT.SCHEDULING.notification-nghe-an" in users["notification"]["publish"]


def test_no_users_are_rendered_for_an_external_nats():
    assert not [o for o in _render({}) if o["metadata"]["name"].endswith("-nats-auth")]


def _nats_server() -> str | None:
    beside = Path(sys.executable).parent / "nats-server"
    return str(beside) if beside.exists() else shutil.which("nats-server")


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_nats_server_accepts_the_rendered_users_with_passwords_from_the_environment(example, tmp_path):
    """Laid out as in the NATS pod: nats.conf in /etc/nats-config including ../ttct-nats-auth/auth.conf (the values'
    config.merge and mount), the passwords in the environment (the values' container.env)."""
    server = _nats_server()
    if not server:
        pytest.skip("nats-server not installed (pip install -r requirements-dev.txt)")
    values = _example(example)
    nats = {**yaml.safe_load((CHART / "values.yaml").read_text())["nats"]}
    (mount,) = [p["value"] for p in nats["container"]["patch"] if p["path"] == "/volumeMounts/-"]
    (include,) = [v for k, v in nats["config"]["merge"].items() if k.endswith("$include")]
    config_dir = tmp_path / "etc" / "nats-config"
    auth_file = (config_dir / include).resolve()
    assert auth_file == (tmp_path / mount["mountPath"].lstrip("/") / "auth.conf").resolve()
    auth_file.parent.mkdir(parents=True)
    auth_file.write_text(_auth_conf(values))
    config_dir.mkdir(parents=True)
    (config_dir / "nats.conf").write_text(f"port: 4222\ninclude {include};\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTCT_NATS_PASSWORD_")}
    passwords = {password_env(user): f"p{os.urandom(12).hex()}" for user in USERS}
    ok = subprocess.run([server, "-t", "-c", str(config_dir / "nats.conf")], env={**env, **passwords},
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # Guards the check above: without a password variable the server refuses the file.
    missing = {k: v for k, v in passwords.items() if k != "TTCT_NATS_PASSWORD_SCHEDULING"}
    refused = subprocess.run([server, "-t", "-c", str(config_dir / "nats.conf")], env={**env, **missing},
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "TTCT_NATS_PASSWORD_SCHEDULING" in refused.stdout + refused.stderr


def test_the_nats_values_load_the_users_and_take_every_password_from_a_secret():
    nats = yaml.safe_load((CHART / "values.yaml").read_text())["nats"]
    env = nats["container"]["env"]
    for user in USERS:
        ref = env[password_env(user)]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "ttct-nats-passwords", "key": user}
    (volume,) = [p["value"] for p in nats["podTemplate"]["patch"]]
    assert volume["configMap"]["name"] == f"{RELEASE}-nats-auth"  # the ConfigMap the chart renders
    # The examples keep that wiring (a values file setting these lists would replace them).
    for example in EXAMPLES:
        example_nats = _example(example)["nats"]
        assert "patch" not in example_nats.get("container", {}) and "podTemplate" not in example_nats
        assert "env" not in example_nats.get("container", {}) and "merge" not in example_nats.get("config", {})


def _nats_values(**changes: Any) -> dict[str, Any]:
    nats = copy.deepcopy(yaml.safe_load((CHART / "values.yaml").read_text())["nats"])
    nats["enabled"] = True
    for path, value in changes.items():
        *parents, key = path.split("__")
        node = nats
        for parent in parents:
            node = node[parent]
        node[key] = value
    return {"nats": nats}


@pytest.mark.parametrize("values, release, message", [
    # A literal password, or none, is refused: passwords only from Secrets.
    ({"nats": {"enabled": True, "container": {"env": {"TTCT_NATS_PASSWORD_SCHEDULING": None}}}}, RELEASE,
     "TTCT_NATS_PASSWORD_SCHEDULING must take user scheduling's password from a Secret"),
    ({"nats": {"enabled": True, "container": {"env": {"TTCT_NATS_PASSWORD_ADMIN": "hunter2"}}}}, RELEASE,
     "TTCT_NATS_PASSWORD_ADMIN must take user admin's password from a Secret"),
    # Another release name: the volume of values.yaml names ttct-nats-auth, the chart renders other-nats-auth.
    ({"nats": {"enabled": True}}, "other", "ConfigMap other-nats-auth"),
    (_nats_values(container__patch=[]), RELEASE, "must mount the volume ttct-nats-auth"),
    (_nats_values(config__merge={"ttct-users$include": None}), RELEASE, "must include /etc/ttct-nats-auth/auth.conf"),
])
def test_nats_values_that_would_not_load_the_users_are_refused(values, release, message):
    with pytest.raises(helm.HelmError, match=re.escape(message)):
        _render(values, name=release)


def test_another_release_works_once_its_configmap_is_named():
    values = _nats_values(podTemplate__patch=[{"op": "add", "path": "/spec/volumes/-", "value": {
        "name": "ttct-nats-auth", "configMap": {"name": "other-nats-auth"}}}])
    assert set(_users(_auth_conf(values, name="other"))) == set(USERS)


@pytest.mark.parametrize("values", [
    {"env": {"NATS_URL": "nats://nats:4222"}},
    {"secretEnv": {"NATS_URL": {"secretName": "nats", "key": "url"}}},
    {"services": {"scheduling": {"secretEnv": {"NATS_URL": {"secretName": "nats", "key": "url"}}}}},
])
def test_nats_url_cannot_be_set_around_the_per_service_secrets(values):
    with pytest.raises(helm.HelmError, match="NATS_URL"):
        _render(values)
