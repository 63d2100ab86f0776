r"""Who may publish and subscribe to what on NATS: one user per service, generated from the topology.

Each service's user may publish only its own context's events of its province, and use only the JetStream API
calls its runtime makes (nats-py 2.x subjects):

- `$JS.API.INFO` (account info);
- publishers: `$JS.API.STREAM.INFO|CREATE|UPDATE.<its stream>` (`ensure_stream`, when PROVISION=true);
- readers, per stream read: `$JS.API.STREAM.INFO.<stream>` (read-only), and for its own durable
  `<service>-<province>` only: `CONSUMER.DURABLE.CREATE` / `CONSUMER.CREATE` (nats-py uses the legacy durable
  form when only `durable_name` is set, the named form with the filter subject appended otherwise),
  `CONSUMER.INFO` (lag metrics), `CONSUMER.DELETE` (an operator re-creating it),
  `CONSUMER.MSG.NEXT` (`pull_subscribe_bind` + `fetch`), and `$JS.ACK.<stream>.<durable>.>` (ack, nak, term,
  in-progress all publish to the message's reply subject); and for `<durable>-rebuild` (the rebuild's own
  unacknowledged consumer, also deleted by the server once idle) the named create, `CONSUMER.MSG.NEXT` and
  `CONSUMER.DELETE` only; likewise for `<durable>-figures` (assessment's figures rebuild, `OWN_READERS`), with
  `CONSUMER.INFO` too;
- subscribe `_INBOX_<service>.>` only (its own inbox prefix, set by ttct.operations.runtime): replies to its API requests,
  `publish_async` acks and the deliveries of `fetch` — never another service's.

The `admin` user may do everything: it provisions the topology (`python -m ttct.eventsourcing.topology apply`) and is what
the tests and operators use.

An external subscriber (another provincial system following some centres' events, examples/external_subscriber.py)
is a read-only user, `subscriber_permissions(name, province, centres)`: it may only create push consumers with a
name and a filter on `ttct.<province>.<centre>.<context>.>` of its centres, on the three streams. Only the named
form of the create request, `$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>`, carries the filter in its subject,
and the server refuses a request whose body's filter differs from it: that is what confines it to its centres.
Plus `$JS.FC.<stream>.>` (flow-control replies) and subscribe `_INBOX_ext_<name>.>` only. Not allowed: any
event subject, acks, pull (`MSG.NEXT`), info, delete, purge, the legacy durable and unnamed create forms, and,
denied explicitly, a create naming a service's durable (`<service>-<province>`), which would otherwise update that
durable's filter. What subjects cannot express: a client may still set `durable_name` equal to the name (the
consumer then outlives it), or a deliver subject outside its inbox; either way it gets only its centres' events.

    python -m ttct.eventsourcing.nats_permissions --province thanh-hoa --format json|nats-conf [--output FILE]
    python -m ttct.eventsourcing.nats_permissions --province thanh-hoa --subscriber NAME --centres hau-loc,nga-son [...]

`nats-conf` renders an `authorization { users = [...] }` block whose passwords are references to environment
variables (`$TTCT_NATS_PASSWORD_<USER>`) unless the caller passes the passwords (the local stack does).
The Helm chart's copy, `deploy/helm/ttct/files/nats-permissions.json`, is written with the province placeholder
`__PROVINCE__`, which the chart replaces with `.Values.province`:

    python -m ttct.eventsourcing.nats_permissions --province __PROVINCE__ --format json \
        --output deploy/helm/ttct/files/nats-permissions.json

and its subscriber template, `files/nats-subscriber-permissions.json`, with `__SUBSCRIBER__` and `__CENTRE__` too,
which the chart expands for each of `natsExternalSubscribers` (a subject with `__CENTRE__` once per centre):

    python -m ttct.eventsourcing.nats_permissions --province __PROVINCE__ --subscriber __SUBSCRIBER__ --centres __CENTRE__ \
        --format json --output deploy/helm/ttct/files/nats-subscriber-permissions.json
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from ttct.eventsourcing.topology import PUBLISHES, READS, durable_name

ADMIN = "admin"
SERVICES: tuple[str, ...] = tuple(READS)
USERS: tuple[str, ...] = (ADMIN, *SERVICES)
CHART_PROVINCE = "__PROVINCE__"
CHART_SUBSCRIBER = "__SUBSCRIBER__"
CHART_CENTRE = "__CENTRE__"
CHART_FILE = Path("deploy/helm/ttct/files/nats-permissions.json")
SUBSCRIBER_CHART_FILE = Path("deploy/helm/ttct/files/nats-subscriber-permissions.json")
_CODE = re.compile(r"[a-z0-9][a-z0-9-]*")  # province, centre and subscriber names: one subject token, no wildcard

# Consumers of their own, besides the durable and its rebuild's, that a service's tools create (named
# `<durable>-<reader>`, unacknowledged): assessment's figures rebuild (`python -m assessment.figures rebuild`).
OWN_READERS: dict[str, tuple[str, ...]] = {"assessment": ("figures",)}

# {"publish": {"allow": [...], "deny": [...] (subscribers only)}, "subscribe": {"allow": [...]}}
Permissions = dict[str, dict[str, list[str]]]


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
            # `ttct.admin <service> rebuild` reads the stream again through a consumer of its own, unacknowledged
            f"$JS.API.CONSUMER.CREATE.{stream}.{durable}-rebuild.>",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}-rebuild",
            f"$JS.API.CONSUMER.DELETE.{stream}.{durable}-rebuild",
        ]
        for reader in OWN_READERS.get(service, ()):  # a tool of the service's re-reading the stream, e.g. its figures
            publish += [f"$JS.API.CONSUMER.CREATE.{stream}.{durable}-{reader}",
                        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}-{reader}.>",
                        f"$JS.API.CONSUMER.INFO.{stream}.{durable}-{reader}",
                        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}-{reader}",
                        f"$JS.API.CONSUMER.DELETE.{stream}.{durable}-{reader}"]
    return {"publish": {"allow": _unique(publish)}, "subscribe": {"allow": [f"{inbox_prefix(service)}.>"]}}


def inbox_prefix(service: str) -> str:
    """The inbox prefix a service's connection uses, so it may subscribe to its own replies only."""
    return f"_INBOX_{service}"


def permissions(province: str) -> dict[str, Permissions]:
    """Every NATS user of `province`'s deployment and what it may publish and subscribe to."""
    _check_code(province, "province code", CHART_PROVINCE)
    admin: Permissions = {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    return {ADMIN: admin, **{s: service_permissions(s, province) for s in SERVICES}}


def subscriber_inbox_prefix(name: str) -> str:
    """The inbox prefix an external subscriber must connect with (nats-py: `inbox_prefix=`)."""
    return f"_INBOX_ext_{name}"


def subscriber_permissions(name: str, province: str, centres: Iterable[str]) -> Permissions:
    """A read-only user following the events of `centres` of `province` through consumers of its own (see above).

    Computed as the chart does it: the rights for the one centre `__CENTRE__`, each subject naming it repeated
    once per centre, so the chart's expansion of SUBSCRIBER_CHART_FILE gives exactly these lists."""
    _check_code(name, "subscriber name", CHART_SUBSCRIBER)
    if name in USERS:
        raise ValueError(f"a subscriber cannot be named as a service's or the admin user: {name!r}")
    _check_code(province, "province code", CHART_PROVINCE)
    centres = _unique(list(centres))
    if not centres:
        raise ValueError("a subscriber needs at least one centre")
    for centre in centres:
        _check_code(centre, "centre code", CHART_CENTRE)
    # The filter subject must be one of the centre's; the consumer's name (`*`) is the client's choice.
    allow = [f"$JS.API.CONSUMER.CREATE.{stream}.*.ttct.{province}.{CHART_CENTRE}.{context}.>"
             for context, stream in PUBLISHES.items()]
    allow += [f"$JS.FC.{stream}.>" for stream in PUBLISHES.values()]  # an ordered push consumer's flow control
    # A create naming an existing consumer updates it: never a service's durable (it would narrow its filter).
    deny = [f"$JS.API.CONSUMER.CREATE.*.{durable_name(service, province)}{suffix}.>" for service in SERVICES
            for suffix in ("", "-rebuild", *(f"-{reader}" for reader in OWN_READERS.get(service, ())))]
    expanded = [s.replace(CHART_CENTRE, c) for s in allow for c in (centres if CHART_CENTRE in s else [CHART_CENTRE])]
    return {"publish": {"allow": _unique(expanded), "deny": deny},
            "subscribe": {"allow": [f"{subscriber_inbox_prefix(name)}.>"]}}


def merged(provinces: Iterable[str], subscribers: Mapping[str, Iterable[str]] | None = None
           ) -> dict[str, Permissions]:
    """The users of several provinces sharing one server (the local stack): each service's rights, unioned; and
    each of `subscribers` ({name: centres}) following its centres in every one of those provinces."""
    out: dict[str, Permissions] = {}
    for province in provinces:
        users = permissions(province)
        users |= {name: subscriber_permissions(name, province, centres)
                  for name, centres in (subscribers or {}).items()}
        for user, perms in users.items():
            into = out.setdefault(user, {"publish": {"allow": []}, "subscribe": {"allow": []}})
            for direction, rule in ((d, r) for d in ("publish", "subscribe") for r in perms[d]):
                into[direction][rule] = _unique(into[direction].get(rule, []) + perms[direction][rule])
    return out


def as_json(province: str) -> str:
    users = {user: {**perms, "password_env": password_env(user)} for user, perms in permissions(province).items()}
    return json.dumps({"province": province, "users": users}, indent=2) + "\n"


def subscriber_as_json(name: str, province: str, centres: Iterable[str]) -> str:
    """One subscriber user, in the shape of as_json()."""
    perms = subscriber_permissions(name, province, centres)
    centres = _unique(list(centres))
    return json.dumps({"province": province, "centres": centres,
                       "users": {name: {**perms, "password_env": password_env(name)}}}, indent=2) + "\n"


def as_nats_conf(users: Mapping[str, Permissions], passwords: Mapping[str, str] | None = None) -> str:
    """An `authorization` block for nats-server's config; passwords given, or `$TTCT_NATS_PASSWORD_<USER>`."""
    lines = ["authorization {", "  users = ["]
    for user, perms in users.items():
        password = json.dumps(passwords[user]) if passwords else f"${password_env(user)}"
        lines.append(f"    {{user: {json.dumps(user)}, password: {password}, permissions: {{")
        for direction in ("publish", "subscribe"):
            rules = ", ".join(f"{rule}: {json.dumps(perms[direction][rule])}" for rule in ("allow", "deny")
                              if rule in perms[direction])
            lines.append(f"      {direction}: {{{rules}}}")
        lines.append("    }}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _check_code(code: str, what: str, placeholder: str) -> None:
    if code != placeholder and not _CODE.fullmatch(code):
        raise ValueError(f"not a {what} (lowercase letters, digits, -): {code!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ttct.eventsourcing.nats_permissions", description=__doc__.splitlines()[0])
    parser.add_argument("--province", default=os.getenv("PROVINCE_CODE"),
                        help=f"the province code (PROVINCE_CODE); {CHART_PROVINCE} for the Helm chart's file")
    parser.add_argument("--format", choices=["json", "nats-conf"], default="json")
    parser.add_argument("--output", type=Path, help="write to this file instead of standard output")
    parser.add_argument("--subscriber", metavar="NAME",
                        help=f"only this external, read-only subscriber user ({CHART_SUBSCRIBER} for the chart's file)")
    parser.add_argument("--centres", help="the subscriber's centres, comma-separated, e.g. hau-loc,nga-son")
    args = parser.parse_args(argv)
    if not args.province:
        parser.error("PROVINCE_CODE (or --province) is required")
    if bool(args.subscriber) != bool(args.centres):
        parser.error("--subscriber and --centres go together")
    try:
        if args.subscriber:
            centres = [c.strip() for c in args.centres.split(",") if c.strip()]
            text = (subscriber_as_json(args.subscriber, args.province, centres) if args.format == "json" else
                    as_nats_conf({args.subscriber: subscriber_permissions(args.subscriber, args.province, centres)}))
        else:
            text = as_json(args.province) if args.format == "json" else as_nats_conf(permissions(args.province))
    except ValueError as exc:
        parser.error(str(exc))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
