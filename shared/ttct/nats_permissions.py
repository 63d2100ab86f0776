r"""Who may publish and subscribe to what on NATS: one user per service, generated from the topology.

Each service's user may publish only its own context's events of its province, and use only the JetStream API
calls its runtime makes (nats-py 2.x subjects):

- `$JS.API.INFO` (account info);
- publishers: `$JS.API.STREAM.INFO|CREATE|UPDATE.<its stream>` (`ensure_stream`, when PROVISION=true);
- readers, per stream read: `$JS.API.STREAM.INFO.<stream>` (read-only), and for its own durable
  `<service>-<province>` only: `CONSUMER.DURABLE.CREATE` / `CONSUMER.CREATE` (nats-py uses the legacy durable
  form when only `durable_name` is set, the named form with the filter subject appended otherwise),
  `CONSUMER.INFO` (lag metrics), `CONSUMER.DELETE` (`python -m ttct.admin <service> rebuild`),
  `CONSUMER.MSG.NEXT` (`pull_subscribe_bind` + `fetch`), and `$JS.ACK.<stream>.<durable>.>` (ack, nak, term,
  in-progress all publish to the message's reply subject);
- subscribe `_INBOX_<service>.>` only (its own inbox prefix, set by ttct.runtime): replies to its API requests,
  `publish_async` acks and the deliveries of `fetch` — never another service's.

The `admin` user may do everything: it provisions the topology (`python -m ttct.topology apply`) and is what
the tests and operators use.

    python -m ttct.nats_permissions --province thanh-hoa --format json|nats-conf [--output FILE]

`nats-conf` renders an `authorization { users = [...] }` block whose passwords are references to environment
variables (`$TTCT_NATS_PASSWORD_<USER>`) unless the caller passes the passwords (the local stack does).
The Helm chart's copy, `deploy/helm/ttct/files/nats-permissions.json`, is written with the province placeholder
`__PROVINCE__`, which the chart replaces with `.Values.province`:

    python -m ttct.nats_permissions --province __PROVINCE__ --format json \
        --output deploy/helm/ttct/files/nats-permissions.json
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from ttct.topology import PUBLISHES, READS, durable_name

ADMIN = "admin"
SERVICES: tuple[str, ...] = tuple(READS)
USERS: tuple[str, ...] = (ADMIN, *SERVICES)
CHART_PROVINCE = "__PROVINCE__"
CHART_FILE = Path("deploy/helm/ttct/files/nats-permissions.json")

Permissions = dict[str, dict[str, list[str]]]  # {"publish": {"allow": [...]}, "subscribe": {"allow": [...]}}


def password_env(user: str) -> str:
    """The environment variable a rendered nats.conf takes `user`'s password from."""
    return f"TTCT_NATS_PASSWORD_{user.upper().replace('-', '_')}"


def service_permissions(service: str, province: str) -> Permissions:
    publish = ["$JS.API.INFO"]
    if service in PUBLISHES:
        stream = PUBLISHES[service]
        publish.insert(0, f"ttct.{province}.*.{service}.>")
        publish += [f"$JS.API.STREAM.{call}.{stream}" for call in ("INFO", "CREATE", "UPDATE")]
    durable = durable_name(service, province)
    for context in READS[service]:
        stream = PUBLISHES[context]
        publish += [
            f"$JS.API.STREAM.INFO.{stream}",
            f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
            f"$JS.API.CONSUMER.CREATE.{stream}.{durable}",
            f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.>",
            f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
            f"$JS.API.CONSUMER.DELETE.{stream}.{durable}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
        ]
    return {"publish": {"allow": _unique(publish)}, "subscribe": {"allow": [f"{inbox_prefix(service)}.>"]}}


def inbox_prefix(service: str) -> str:
    """The inbox prefix a service's connection uses, so it may subscribe to its own replies only."""
    return f"_INBOX_{service}"


def permissions(province: str) -> dict[str, Permissions]:
    """Every NATS user of `province`'s deployment and what it may publish and subscribe to."""
    if province != CHART_PROVINCE and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", province):
        raise ValueError(f"not a province code (lowercase letters, digits, -): {province!r}")
    admin: Permissions = {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    return {ADMIN: admin, **{s: service_permissions(s, province) for s in SERVICES}}


def merged(provinces: Iterable[str]) -> dict[str, Permissions]:
    """The users of several provinces sharing one server (the local stack): each service's rights, unioned."""
    out: dict[str, Permissions] = {}
    for province in provinces:
        for user, perms in permissions(province).items():
            into = out.setdefault(user, {"publish": {"allow": []}, "subscribe": {"allow": []}})
            for direction in ("publish", "subscribe"):
                into[direction]["allow"] = _unique(into[direction]["allow"] + perms[direction]["allow"])
    return out


def as_json(province: str) -> str:
    users = {user: {**perms, "password_env": password_env(user)} for user, perms in permissions(province).items()}
    return json.dumps({"province": province, "users": users}, indent=2) + "\n"


def as_nats_conf(users: Mapping[str, Permissions], passwords: Mapping[str, str] | None = None) -> str:
    """An `authorization` block for nats-server's config; passwords given, or `$TTCT_NATS_PASSWORD_<USER>`."""
    lines = ["authorization {", "  users = ["]
    for user, perms in users.items():
        password = json.dumps(passwords[user]) if passwords else f"${password_env(user)}"
        lines.append(f"    {{user: {json.dumps(user)}, password: {password}, permissions: {{")
        for direction in ("publish", "subscribe"):
            lines.append(f"      {direction}: {{allow: {json.dumps(perms[direction]['allow'])}}}")
        lines.append("    }}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ttct.nats_permissions", description=__doc__.splitlines()[0])
    parser.add_argument("--province", default=os.getenv("PROVINCE_CODE"),
                        help=f"the province code (PROVINCE_CODE); {CHART_PROVINCE} for the Helm chart's file")
    parser.add_argument("--format", choices=["json", "nats-conf"], default="json")
    parser.add_argument("--output", type=Path, help="write to this file instead of standard output")
    args = parser.parse_args(argv)
    if not args.province:
        parser.error("PROVINCE_CODE (or --province) is required")
    text = as_json(args.province) if args.format == "json" else as_nats_conf(permissions(args.province))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
