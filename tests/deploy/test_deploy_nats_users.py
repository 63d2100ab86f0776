"""The bundled NATS's users in the Helm chart: one per service plus `admin`, rendered from the exported permission
map (deploy/helm/ttct/files/nats-permissions.json, province substituted) into the ConfigMap the NATS chart includes,
each password an environment reference set from a Secret; and the read-only external subscribers of
natsExternalSubscribers, expanded from files/nats-subscriber-permissions.json per centre. Rendered with the Helm SDK, as test_deploy_chart.py;
the rendered auth.conf is then checked by nats-server itself (`nats-server -t`).

What is checked is our ConfigMap and the values that wire it into the vendored NATS chart (mount, include,
password variables), which the chart itself refuses to render without, and the NATS StatefulSet they give under
any release name. test_deploy_render_and_run.py runs the rendered servers.
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
from ttct.eventsourcing.nats_permissions import (
    CHART_CENTRE,
    CHART_PROVINCE,
    CHART_SUBSCRIBER,
    SUBSCRIBER_CHART_FILE,
    USERS,
    password_env,
    permissions,
    subscriber_as_json,
    subscriber_permissions,
)

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "ttct"
PERMISSION_FILE = CHART / "files" / "nats-permissions.json"
RELEASE, NAMESPACE = "ttct", "ttct"
EXAMPLES = {"single-centre": CHART / "values-single-centre.yaml", "province": CHART / "values-province.yaml"}
USER_LINE = re.compile(
    r'\{user: "(?P<user>[^"]+)", password: \$(?P<env>[A-Z0-9_]+), permissions: \{\n'
    r'\s*publish: \{allow: (?P<publish>\[[^\]]*\])(?:, deny: (?P<deny>\[[^\]]*\]))?\}\n'
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
    found = {m["user"]: {"publish": json.loads(m["publish"]), "subscribe": json.loads(m["subscribe"]), "env": m["env"],
                         **({"deny": json.loads(m["deny"])} if m["deny"] else {})}
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


@pytest.mark.parametrize("release, nats", [(RELEASE, "ttct-nats"), ("other", "other-nats"), ("nats-a", "nats-a")])
def test_the_nats_servers_load_the_users_and_take_every_password_from_a_secret_under_any_release(release, nats):
    """The values name the ConfigMap and the passwords' Secret through the NATS chart's own fullname, so any release
    name renders a NATS that mounts this release's users and reads <nats>-passwords."""
    rendered = _render({"nats": {"enabled": True}}, name=release)
    (statefulset,) = [o for o in rendered if o["kind"] == "StatefulSet"]
    assert statefulset["metadata"]["name"] == nats
    pod = statefulset["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "nats"]
    env = {e["name"]: e for e in container["env"]}
    for user in USERS:
        assert env[password_env(user)]["valueFrom"]["secretKeyRef"] == {"name": f"{nats}-passwords", "key": user}
    (volume,) = [v for v in pod["volumes"] if v["name"] == "ttct-nats-auth"]
    assert volume["configMap"]["name"] == f"{nats}-auth"
    assert [o for o in rendered if o["kind"] == "ConfigMap" and o["metadata"]["name"] == f"{nats}-auth"]
    assert {"name": "ttct-nats-auth", "mountPath": "/etc/ttct-nats-auth", "readOnly": True} in container["volumeMounts"]
    # The examples keep that wiring (a values file setting these lists would replace them).
    for example in EXAMPLES:
        example_nats = _example(example)["nats"]
        assert "patch" not in example_nats.get("container", {}) and "patch" not in example_nats.get("podTemplate", {})
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
     "TTCT_NATS_PASSWORD_SCHEDULING"),
    ({"nats": {"enabled": True, "container": {"env": {"TTCT_NATS_PASSWORD_ADMIN": "hunter2"}}}}, RELEASE,
     "TTCT_NATS_PASSWORD_ADMIN must take user admin's password from a Secret"),
    # A volume naming another ConfigMap than the one the chart renders.
    (_nats_values(podTemplate__patch=[{"op": "add", "path": "/spec/volumes/-", "value": {
        "name": "ttct-nats-auth", "configMap": {"name": "ttct-nats-users"}}}]), RELEASE, "ConfigMap ttct-nats-auth"),
    (_nats_values(container__patch=[]), RELEASE, "must mount the volume ttct-nats-auth"),
    (_nats_values(config__merge={"ttct-users$include": None}), RELEASE, "must include /etc/ttct-nats-auth/auth.conf"),
])
def test_nats_values_that_would_not_load_the_users_are_refused(values, release, message):
    with pytest.raises(helm.HelmError, match=re.escape(message)):
        _render(values, name=release)


@pytest.mark.parametrize("values", [
    {"env": {"NATS_URL": "nats://nats:4222"}},
    {"secretEnv": {"NATS_URL": {"secretName": "nats", "key": "url"}}},
    {"services": {"scheduling": {"secretEnv": {"NATS_URL": {"secretName": "nats", "key": "url"}}}}},
])
def test_nats_url_cannot_be_set_around_the_per_service_secrets(values):
    with pytest.raises(helm.HelmError, match="NATS_URL"):
        _render(values)


# An external subscriber, with its password variable from a Secret as values.yaml documents it.
SUBSCRIBER_VALUES = {
    "natsExternalSubscribers": [{"name": "so-gddt", "centres": ["hau-loc", "nga-son"]},
                                {"name": "tinh-uy", "centres": ["tho-xuan"]}],
    "nats": {"enabled": True, "container": {"env": {
        "TTCT_NATS_PASSWORD_SO_GDDT": {"valueFrom": {"secretKeyRef": {"name": "ttct-nats-passwords", "key": "so-gddt"}}},
        "TTCT_NATS_PASSWORD_TINH_UY": {"valueFrom": {"secretKeyRef": {"name": "ttct-nats-passwords", "key": "tinh-uy"}}},
    }}},
}


def test_the_charts_subscriber_permission_file_is_current():
    assert (ROOT / SUBSCRIBER_CHART_FILE).read_text() == subscriber_as_json(
        CHART_SUBSCRIBER, CHART_PROVINCE, [CHART_CENTRE]), (
        "regenerate it: python -m ttct.eventsourcing.nats_permissions --province __PROVINCE__ --subscriber __SUBSCRIBER__ "
        f"--centres __CENTRE__ --format json --output {SUBSCRIBER_CHART_FILE}")


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_each_external_subscriber_gets_exactly_the_read_only_rights_of_its_centres(example):
    values = copy.deepcopy(_example(example))
    values["natsExternalSubscribers"] = SUBSCRIBER_VALUES["natsExternalSubscribers"]
    values["nats"].setdefault("container", {})["env"] = SUBSCRIBER_VALUES["nats"]["container"]["env"]
    users = _users(_auth_conf(values))
    assert set(users) == {*USERS, "so-gddt", "tinh-uy"}
    province = values["province"]
    for entry in SUBSCRIBER_VALUES["natsExternalSubscribers"]:
        rendered, expected = users[entry["name"]], subscriber_permissions(entry["name"], province, entry["centres"])
        assert rendered["publish"] == expected["publish"]["allow"]
        assert rendered["deny"] == expected["publish"]["deny"]
        assert rendered["subscribe"] == expected["subscribe"]["allow"] == [f"_INBOX_ext_{entry['name']}.>"]
        assert rendered["env"] == password_env(entry["name"])
    # What that means: consumers filtered on its own centres only; no event subject, ack, pull or stream call.
    so_gddt = users["so-gddt"]["publish"]
    assert f"$JS.API.CONSUMER.CREATE.SCHEDULING.*.ttct.{province}.nga-son.scheduling.>" in so_gddt
    assert not [s for s in so_gddt if "tho-xuan" in s]
    assert not [s for s in so_gddt if s.startswith(("ttct.", "$JS.ACK", "$JS.API.STREAM", "$JS.API.CONSUMER.MSG"))]
    assert f"$JS.API.CONSUMER.CREATE.*.notification-{province}.>" in users["so-gddt"]["deny"]
    # and the services' users are as without subscribers
    assert {u: users[u] for u in USERS} == _users(_auth_conf(_example(example)))


def test_nats_server_accepts_the_subscribers_and_wants_their_passwords(tmp_path):
    server = _nats_server()
    if not server:
        pytest.skip("nats-server not installed (pip install -r requirements-dev.txt)")
    values = copy.deepcopy(SUBSCRIBER_VALUES)
    (tmp_path / "nats.conf").write_text(f"port: 4222\n{_auth_conf(values)}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTCT_NATS_PASSWORD_")}
    passwords = {password_env(u): f"p{os.urandom(12).hex()}" for u in (*USERS, "so-gddt", "tinh-uy")}
    ok = subprocess.run([server, "-t", "-c", str(tmp_path / "nats.conf")], env={**env, **passwords},
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    missing = {k: v for k, v in passwords.items() if k != "TTCT_NATS_PASSWORD_SO_GDDT"}
    refused = subprocess.run([server, "-t", "-c", str(tmp_path / "nats.conf")], env={**env, **missing},
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "TTCT_NATS_PASSWORD_SO_GDDT" in refused.stdout + refused.stderr


@pytest.mark.parametrize("subscribers, message", [
    # its password must come from a Secret, as the services' do
    ([{"name": "so-gddt", "centres": ["hau-loc"]}, {"name": "thanh-tra", "centres": ["hau-loc"]}],
     "nats.container.env.TTCT_NATS_PASSWORD_THANH_TRA must take subscriber thanh-tra's password from a Secret"),
    # a name of its own
    ([{"name": "notification", "centres": ["hau-loc"]}], "the name notification is taken"),
    ([{"name": "so-gddt", "centres": ["hau-loc"]}, {"name": "so-gddt", "centres": ["nga-son"]}],
     "the name so-gddt is taken"),
    # centres and names are subject tokens: no wildcard, no dot, at least one centre
    ([{"name": "so-gddt", "centres": ["*"]}], "/natsExternalSubscribers/0/centres/0"),
    ([{"name": "so-gddt", "centres": ["hau-loc.>"]}], "/natsExternalSubscribers/0/centres/0"),
    ([{"name": "so-gddt", "centres": []}], "/natsExternalSubscribers/0/centres"),
    ([{"name": "So GDDT", "centres": ["hau-loc"]}], "/natsExternalSubscribers/0/name"),
])
def test_subscribers_that_would_not_be_read_only_and_their_own_are_refused(subscribers, message):
    values = copy.deepcopy(SUBSCRIBER_VALUES)
    values["natsExternalSubscribers"] = subscribers
    with pytest.raises(helm.HelmError, match=re.escape(message)):
        _render(values)


def test_subscribers_are_refused_without_the_bundled_nats():
    """An external NATS gets its users elsewhere: silently dropping them would leave the subscriber locked out."""
    with pytest.raises(helm.HelmError, match=re.escape("users of the bundled NATS")):
        _render({"natsExternalSubscribers": [{"name": "so-gddt", "centres": ["hau-loc"]}]})
