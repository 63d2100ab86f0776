"""Kubernetes NetworkPolicy semantics, for the reachability test: which connections the rendered policies allow.

A connection goes from a pod (its namespace and labels) to an endpoint: another pod (namespace, labels, its
container ports by name) or an address outside the cluster, on a port and protocol. It is allowed when the
source's egress allows it and, for a pod, the destination's ingress does. A pod that no policy of a direction
selects is open in that direction; one that some policy selects gets only what a rule of such a policy allows.
A rule without `ports` allows every port, without `to`/`from` every peer; a podSelector peer alone means pods
of the policy's namespace, a namespaceSelector alone every pod of the namespaces it selects, both together the
pods it selects in those namespaces; an ipBlock matches addresses (pods here have addresses in POD_CIDR, which
the policies' public-internet blocks exclude). A named port is the destination container's port of that name.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

POD_CIDR = ipaddress.ip_network("10.244.0.0/16")


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return False
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if not {"In": lambda: labels.get(key) in values, "NotIn": lambda: labels.get(key) not in values,
                "Exists": lambda: key in labels, "DoesNotExist": lambda: key not in labels}[operator]():
            return False
    return True


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace and labels) or an outside address; `ports` names a pod's container ports."""

    name: str
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    address: str | None = None
    ports: dict[str, int] = field(default_factory=dict, hash=False)

    @property
    def ip(self) -> ipaddress.IPv4Address:
        if self.address:
            return ipaddress.ip_address(self.address)
        return POD_CIDR[hash((self.namespace, self.name)) % (POD_CIDR.num_addresses - 2) + 1]

    def namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace} if self.namespace else {}


@dataclass
class Policies:
    policies: list[dict[str, Any]]  # the rendered NetworkPolicies, all in `namespace`
    namespace: str

    def _selecting(self, endpoint: Endpoint, direction: str) -> list[dict[str, Any]]:
        if endpoint.namespace != self.namespace:
            return []
        return [p for p in self.policies if direction in p["spec"].get("policyTypes", ["Ingress"])
                and selects(p["spec"]["podSelector"], endpoint.labels)]

    def allows(self, source: Endpoint, destination: Endpoint, port: int | str, protocol: str = "TCP") -> bool:
        number = destination.ports.get(port, port) if isinstance(port, str) else port
        return (self._direction(source, "Egress", "to", destination, number, protocol)
                and self._direction(destination, "Ingress", "from", source, number, protocol))

    def _direction(self, subject: Endpoint, direction: str, peers_key: str, peer: Endpoint, port: int | str,
                   protocol: str) -> bool:
        policies = self._selecting(subject, direction)
        if not policies:
            return True
        target = subject if direction == "Ingress" else peer  # whose named ports the rule's ports refer to
        for policy in policies:
            for rule in policy["spec"].get(direction.lower(), []):
                if self._port_matches(rule.get("ports"), target, port, protocol) and self._peer_matches(
                        rule.get(peers_key), peer):
                    return True
        return False

    @staticmethod
    def _port_matches(ports: list[dict[str, Any]] | None, target: Endpoint, port: int | str, protocol: str) -> bool:
        if not ports:
            return True
        for entry in ports:
            if entry.get("protocol", "TCP") != protocol:
                continue
            wanted = entry.get("port")
            if wanted is None:
                return True
            wanted = target.ports.get(wanted) if isinstance(wanted, str) else wanted
            if wanted is not None and (wanted == port or wanted <= port <= entry.get("endPort", wanted)):
                return True
        return False

    def _peer_matches(self, peers: list[dict[str, Any]] | None, peer: Endpoint) -> bool:
        if not peers:
            return True
        for entry in peers:
            if "ipBlock" in entry:
                block = entry["ipBlock"]
                if peer.ip in ipaddress.ip_network(block["cidr"]) and not any(
                        peer.ip in ipaddress.ip_network(e) for e in block.get("except", [])):
                    return True
                continue
            if peer.namespace is None:  # an outside address is no pod
                continue
            in_namespace = (selects(entry["namespaceSelector"], peer.namespace_labels())
                            if "namespaceSelector" in entry else peer.namespace == self.namespace)
            pod = selects(entry.get("podSelector", {}), peer.labels)
            if in_namespace and pod:
                return True
        return False
