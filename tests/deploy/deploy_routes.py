"""How the controllers match a request path against the rendered routes, for the routing test and the local
gateway of the render-and-run test.

- HTTPRoute (Gateway API): a PathPrefix matches whole path segments, an Exact the path, a RegularExpression the
  whole path (RE2, as Envoy, Istio and the others match it). Which of several matching rules wins is left to the
  implementation, so a request must match the rules of one service only.
- Ingress (ingress-nginx with use-regex): each path becomes `location ~* "^<path>"`, tried longest first; the
  first that matches takes the request, case-insensitively.
"""
from __future__ import annotations

import re

from deploy_chart import Rendered


def backend_component(rendered: Rendered, service_name: str) -> str:
    """The component (service name) whose pods a rendered Service selects."""
    return rendered.get("Service", service_name)["spec"]["selector"]["app.kubernetes.io/component"]


def gateway_matches(rendered: Rendered, path: str) -> set[str]:
    """The Services (by name) of every HTTPRoute rule matching the path."""
    found = set()
    for route in rendered.of("HTTPRoute"):
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


def ingress_nginx_match(rendered: Rendered, path: str) -> tuple[str | None, set[str]]:
    """The Service the first matching location gives, and every Service some location would give."""
    (ingress,) = rendered.of("Ingress")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true"
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    locations = sorted(paths, key=lambda p: len(p["path"]), reverse=True)  # ingress-nginx's order
    hits = [p["backend"]["service"]["name"] for p in locations if re.match("^" + p["path"], path, re.IGNORECASE)]
    return (hits[0] if hits else None), set(hits)


def route(rendered: Rendered, path: str) -> str | None:
    """The Service a request for `path` goes to, through the HTTPRoute or else the Ingress; None: no route."""
    if rendered.of("HTTPRoute"):
        matched = gateway_matches(rendered, path)
        return matched.pop() if len(matched) == 1 else None
    if rendered.of("Ingress"):
        return ingress_nginx_match(rendered, path)[0]
    return None
