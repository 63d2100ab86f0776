"""The cluster a rendered profile expects, as data: the Secrets and ConfigMaps its prerequisites file lists (with
values made here: passwords, URLs naming the cluster's hosts, certificates from a CA of our own, the identity
provider's key), those the operators make from rendered objects (CloudNativePG's <cluster>-app), and what each
container of each pod then sees: its environment and its mounted files, resolved as the kubelet resolves them.
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import certifi
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from deploy_chart import Pod, Prerequisites, Rendered

CNPG_PORT = 5432
# Settings holding a URL that names something rather than one to call: the tokens' issuer, the console's own address
# (the browser's, for its redirect URI and cookie), the page a certificate's QR code prints
IDENTIFIERS = frozenset({"AUTH_ISSUER", "PUBLIC_URL", "CERTIFICATE_VERIFICATION_URL"})


def _pem_key(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class CertificateAuthority:
    """The internal CA of the profile (cert-manager's ClusterIssuer, in a real cluster)."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ttct internal CA (tests)")])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                     .not_valid_after(now + datetime.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, dns_names: list[str], ips: list[str]) -> tuple[str, str]:
        """A server and client certificate (PEM) and its key, for these names and addresses."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        names = [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (dns_names or ips)[0])]))
                .issuer_name(self.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                                      x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.PEM).decode(), _pem_key(key)


class IdentityProvider:
    """The province's identity provider, as far as the services see it: a signing key, its JWKS, its tokens."""

    def __init__(self, issuer: str, audience: str) -> None:
        self.issuer, self.audience, self.kid = issuer, audience, uuid.uuid4().hex[:12]
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def jwks(self) -> dict[str, Any]:
        key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**key, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def headers(self, role: str, *, province: str = "thanh-hoa", centre: str | None = None,
                org: str | None = None, **claims: Any) -> dict[str, str]:
        """What ttct_dev.tokens.LocalIssuer.headers gives, signed by this provider (the seed story calls it)."""
        now = int(time.time())
        body = {"iss": self.issuer, "aud": self.audience, "sub": f"{role}-{uuid.uuid4().hex[:8]}", "iat": now,
                "exp": now + 3600, "role": role, "province": province, **claims,
                **({"centre": centre} if centre else {}), **({"org": org} if org else {})}
        return {"Authorization": "Bearer " + jwt.encode(body, self._key, algorithm="RS256",
                                                        headers={"kid": self.kid})}


@dataclass
class ClusterState:
    """Secrets and ConfigMaps of the namespace once the prerequisites are made and the operators have run."""

    rendered: Rendered
    prerequisites: Prerequisites
    local_ips: tuple[str, ...] = ("127.0.0.1",)  # added to every certificate, for the local run
    passwords: dict[str, str] = field(default_factory=dict)  # NATS user or database owner -> password
    databases: dict[str, str] = field(default_factory=dict)  # database named in a URL -> its owner

    @cached_property
    def ca(self) -> CertificateAuthority:
        return CertificateAuthority()

    @cached_property
    def identity_provider(self) -> IdentityProvider:
        auth = self.rendered.values["auth"]
        return IdentityProvider(auth["issuer"], auth["audience"])

    def password(self, who: str) -> str:
        return self.passwords.setdefault(who, "p" + secrets.token_hex(16))

    @cached_property
    def secrets(self) -> dict[str, dict[str, str]]:
        made = {name: self._make(spec) for name, spec in self.prerequisites.secrets.items()}
        return {**made, **self._operator_secrets()}

    @cached_property
    def config_maps(self) -> dict[str, dict[str, str]]:
        rendered = {o["metadata"]["name"]: o.get("data", {}) for o in self.rendered.of("ConfigMap")}
        return {**rendered, **{n: self._make(spec) for n, spec in self.prerequisites.config_maps.items()}}

    def _make(self, spec: dict[str, Any]) -> dict[str, str]:
        certificate: tuple[str, str] | None = None
        out = {}
        for key, what in spec["keys"].items():
            kind, _, rest = what.partition(" ")
            if kind in ("certificate", "private-key"):
                certificate = certificate or self.ca.issue(spec.get("dnsNames", []), list(self.local_ips))
            out[key] = {
                "password": lambda: self.password(rest),
                "nats-url": lambda: self._url_with(*rest.split(" ", 1)),
                "postgres-url": lambda: self._postgres_url(*rest.split(" ", 1)),
                "certificate": lambda: certificate[0],
                "private-key": lambda: certificate[1],
                "ca-certificate": lambda: self.ca.pem,
                "ca-bundle": lambda: self.ca.pem + open(certifi.where()).read(),
                "public-key": lambda: self.identity_provider.public_pem,
                "random": lambda: secrets.token_urlsafe(24),
                "text": lambda: rest,
            }[kind]()
        return out

    def _url_with(self, user: str, url: str) -> str:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{user}:{self.password(user)}@{rest}"

    def _postgres_url(self, database: str, host: str) -> str:
        self.databases[database] = database
        return f"postgresql://{database}:{self.password(database)}@{host}/{database}"

    def _operator_secrets(self) -> dict[str, dict[str, str]]:
        """CloudNativePG's Secret <cluster>-app for each Cluster: the owner's credentials and URL, the host being
        the cluster's read-write Service."""
        made = {}
        for cluster in self.rendered.of("Cluster"):
            name, initdb = cluster["metadata"]["name"], cluster["spec"]["bootstrap"]["initdb"]
            host = f"{name}-rw.{self.rendered.namespace}"
            owner, database = initdb["owner"], initdb["database"]
            self.databases[f"{name}/{database}"] = owner
            made[f"{name}-app"] = {
                "username": owner, "password": self.password(f"{name}/{owner}"), "host": host,
                "port": str(CNPG_PORT), "dbname": database,
                "uri": f"postgresql://{owner}:{self.password(f'{name}/{owner}')}@{host}:{CNPG_PORT}/{database}"}
        return made

    # ----------------------------------------------------------------------------------------------------------
    # What a container sees
    # ----------------------------------------------------------------------------------------------------------

    def env(self, pod: Pod, container: dict[str, Any], pod_name: str) -> dict[str, str]:
        """The container's environment as the kubelet builds it: envFrom, then env in order, $(VAR) expanded.
        A missing Secret or ConfigMap (or key) raises KeyError naming it, as the kubelet refuses to start."""
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            if ref := source.get("configMapRef"):
                env |= self._lookup(self.config_maps, "ConfigMap", ref["name"])
            if ref := source.get("secretRef"):
                env |= self._lookup(self.secrets, "Secret", ref["name"])
        fields = {"metadata.name": pod_name, "metadata.namespace": self.rendered.namespace,
                  "spec.nodeName": "node-1"}
        for item in container.get("env", []):
            if "value" in item:
                value = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), str(item["value"]))
            elif ref := item["valueFrom"].get("secretKeyRef"):
                value = self._key(self.secrets, "Secret", ref)
            elif ref := item["valueFrom"].get("configMapKeyRef"):
                value = self._key(self.config_maps, "ConfigMap", ref)
            else:
                value = fields[item["valueFrom"]["fieldRef"]["fieldPath"]]
            if value is not None:
                env[item["name"]] = value
        return env

    def files(self, pod: Pod, container: dict[str, Any]) -> dict[str, dict[str, str] | None]:
        """mountPath -> {file name: content} of each mounted Secret or ConfigMap; None for an emptyDir."""
        volumes = {v["name"]: v for v in pod.spec.get("volumes", [])}
        mounted: dict[str, dict[str, str] | None] = {}
        for mount in container.get("volumeMounts", []):
            volume = volumes.get(mount["name"])
            if volume is None:  # a volume claim template: the StatefulSet's persistent volume
                mounted[mount["mountPath"]] = None
                continue
            if "secret" in volume:
                data = self._lookup(self.secrets, "Secret", volume["secret"]["secretName"])
                items = volume["secret"].get("items")
            elif "configMap" in volume:
                data = self._lookup(self.config_maps, "ConfigMap", volume["configMap"]["name"])
                items = volume["configMap"].get("items")
            else:
                mounted[mount["mountPath"]] = None
                continue
            if items:
                missing = [i["key"] for i in items if i["key"] not in data]
                if missing:
                    raise KeyError(f"volume {volume['name']}: no key {', '.join(missing)}")
                data = {i["path"]: data[i["key"]] for i in items}
            mounted[mount["mountPath"]] = data
        return mounted

    @staticmethod
    def _lookup(store: dict[str, dict[str, str]], kind: str, name: str) -> dict[str, str]:
        if name not in store:
            raise KeyError(f"{kind} {name} exists nowhere: neither rendered, nor made by an operator, nor a "
                           "prerequisite")
        return store[name]

    def _key(self, store: dict[str, dict[str, str]], kind: str, ref: dict[str, Any]) -> str | None:
        data = self._lookup(store, kind, ref["name"]) if not (ref.get("optional") and ref["name"] not in store) else {}
        if ref["key"] not in data:
            if ref.get("optional"):
                return None
            raise KeyError(f"{kind} {ref['name']} has no key {ref['key']}")
        return data[ref["key"]]
