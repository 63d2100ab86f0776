"""A local identity provider for `make run`, the demo and the tests: an RSA key pair under the data dir and
tokens signed with it. In production the services verify the province's identity provider (AUTH_JWKS_URL).

    python -m ttct_dev.tokens --role centre-staff --centre hau-loc
    python -m ttct_dev.tokens --role organisation --org xa-hoa-loc
"""
from __future__ import annotations

import argparse
import hashlib
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER, AUDIENCE = "ttct-local", "ttct-api"


class LocalIssuer:
    def __init__(self, data_dir: Path) -> None:
        self.dir = Path(data_dir) / "auth"
        self.private_key_file, self.public_key_file = self.dir / "private.pem", self.dir / "public.pem"
        if not self.private_key_file.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.private_key_file.write_bytes(key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            self.private_key_file.chmod(0o600)
            self.public_key_file.write_bytes(key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        self._private = self.private_key_file.read_bytes()
        # the key's id, as in a JWKS (ttct_dev.oidc publishes one): a client finds the key a token names
        self.kid = hashlib.sha256(self.public_key_file.read_bytes()).hexdigest()[:16]

    @property
    def env(self) -> dict[str, str]:
        """The settings a service needs to trust this issuer."""
        return {"AUTH_PUBLIC_KEY_FILE": str(self.public_key_file.resolve()), "AUTH_ISSUER": ISSUER,
                "AUTH_AUDIENCE": AUDIENCE}

    def mint(self, role: str, *, province: str = "thanh-hoa", centre: str | list[str] | None = None,
             org: str | list[str] | None = None, scope: str | None = None, ttl: int = 8 * 3600,
             subject: str | None = None, **claims: object) -> str:
        now = int(time.time())
        body: dict[str, object] = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject or f"{role}-{uuid.uuid4().hex[:8]}",
                                   "iat": now, "exp": now + ttl, "role": role, "province": province, **claims}
        if centre:
            body["centres" if isinstance(centre, list) else "centre"] = centre
        if org:
            body["organisations" if isinstance(org, list) else "org"] = org
        if scope:
            body["scope"] = scope
        return jwt.encode(body, self._private, algorithm="RS256", headers={"kid": self.kid})

    def headers(self, role: str, **kw: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(role, **kw)}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", required=True, choices=["province-admin", "centre-staff", "lecturer",
                                                          "organisation", "integration", "public"])
    parser.add_argument("--province", default="thanh-hoa")
    parser.add_argument("--centre", help="comma-separated for several (integration clients)")
    parser.add_argument("--org", help="the sending organisation's code (role organisation)")
    parser.add_argument("--scope", help="space-separated scopes (role integration), e.g. 'classes:read'")
    parser.add_argument("--lecturer-id", help="the lecturer's id in the province's register (role lecturer): they "
                                              "record attendance and scores of their own sessions only")
    parser.add_argument("--ttl", type=int, default=8 * 3600)
    parser.add_argument("--data-dir", type=Path, default=Path(".data"))
    a = parser.parse_args()
    centre = a.centre.split(",") if a.centre and "," in a.centre else a.centre
    extra = {"lecturer_id": a.lecturer_id} if a.lecturer_id else {}
    print(LocalIssuer(a.data_dir).mint(a.role, province=a.province, centre=centre, org=a.org, scope=a.scope,
                                       ttl=a.ttl, **extra))


if __name__ == "__main__":
    main()
