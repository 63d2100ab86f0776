"""How the controllers match a request path against the rendered routes, for the routing test and the local
gateway of the render-and-run test.

- HTTPRoute (Gateway API): a PathPrefix matches whole path segments, an Exact the path, a RegularExpression the
  whole path (RE2, as Envoy, Istio and the others match it). Which of several matching rules wins is left to the
  implementation, so a request must match the rules of one service only.
- Ingress (ingress-nginx with use-regex): each path becomes `location ~* "^<path>"`, tried longest first; the
  first that matches takes the request, case-insensitively. A host named in a rule has a server of its own (the
  console's host: its Ingress's one Prefix path `/`); the rules without a host serve every other host.
- A service's own host (publicHostnames, the console): a route or an Ingress of its own, for that host only.
"""
from __future__ import annotations

import re

from deploy_chart import Rendered


def backend_component(rendered: Rendered, service_name: str) -> str:
    """The component (service name) whose pods a rendered Service selects."""
    return rendered.get("Service", service_name)["spec"]["selector"]["app.kubernetes.io/component"]


def _serves(hostnames: list[str], host: str | None, api_hosts: list[str]) -> bool:
    """Whether a route of these hostnames takes a request for `host` (None: the API's host): a route without
    hostnames takes every host."""
    if not hostnames:
        return True
    return bool(set(hostnames) & set(api_hosts)) if host is None else host in hostnames


def gateway_matches(rendered: Rendered, path: str, host: str | None = None) -> set[str]:
    """The Services (by name) of every HTTPRoute rule matching the path, on `host` (None: the API's host)."""
    found = set()
    api_hosts = (rendered.values.get("gateway") or {}).get("hostnames") or []
    for route in rendered.of("HTTPRoute"):
        if not _serves(route["spec"].get("hostnames") or [], host, api_hosts):
            continue
        for rule in route["spec"]["rules"]:
            for match in rule["matches"]:
                kind, value = match["path"]["type"], match["path"]["value"]
                if kind == "Exact":
                    hit = path == value
                elif kind == "PathPrefix":
                    hit = path == value.rstrip("/") or path.startswith(value.rstrip("/") + "/")
                else:
                    hit = re.fullmatch(value, path) is not None
                if hit:
                    found |= {b["name"] for b in rule["backendRefs"]}
    return found


def ingress_nginx_match(rendered: Rendered, path: str, host: str | None = None) -> tuple[str | None, set[str]]:
    """The Service the first matching location gives, and every Service some location would give, on `host`
    (None: the API's). ingress-nginx makes a server per host named in a rule; a request for a host no rule names
    goes to the default server, which holds the rules without a host."""
    api_hosts = (rendered.values.get("ingress") or {}).get("hosts") or []
    host = host if host is not None else (api_hosts[0] if api_hosts else "")
    named = {rule.get("host", "") for ingress in rendered.of("Ingress") for rule in ingress["spec"]["rules"]}
    server = host if host in named else ""
    rules = [(ingress, rule) for ingress in rendered.of("Ingress") for rule in ingress["spec"]["rules"]
             if rule.get("host", "") == server]
    regex = any(i["metadata"].get("annotations", {}).get("nginx.ingress.kubernetes.io/use-regex") == "true"
                for i, _ in rules)
    paths = [p for _, rule in rules for p in rule["http"]["paths"]]
    locations = sorted(paths, key=lambda p: len(p["path"]), reverse=True)  # ingress-nginx's order
    hits = [p["backend"]["service"]["name"] for p in locations
            if (re.match("^" + p["path"], path, re.IGNORECASE) if regex else
                path == p["path"].rstrip("/") or path.startswith(p["path"].rstrip("/") + "/"))]
    return (hits[0] if hits else None), set(hits)


def route(rendered: Rendered, path: str, host: str | None = None) -> str | None:
    """The Service a request for `path` on `host` (None: the API's) goes to, through the HTTPRoutes or else the
    Ingresses; None: no route."""
    if rendered.of("HTTPRoute"):
        matched = gateway_matches(rendered, path, host)
        return matched.pop() if len(matched) == 1 else None
    if rendered.of("Ingress"):
        return ingress_nginx_match(rendered, path, host)[0]
    return None
