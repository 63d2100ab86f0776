"""Starting the console and the local identity provider beside the four services (ttct_dev.services): for
`make run` and the console's browser tests."""
from __future__ import annotations

import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ttct_dev.services import Services, free_port

DEFAULT_PORTS = {"console": 8005, "oidc": 8009}
CLIENT_ID = "ttct-console"


@dataclass
class Console:
    services: Services
    data_dir: Path  # LocalIssuer's: the provider signs with the key the services trust
    log_dir: Path | None = None
    fixed_ports: bool = False
    port: int | None = None  # the console's, chosen beforehand (the services print its /verify in QR codes)
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    oidc_url: str = ""
    _procs: list[subprocess.Popen] = field(default_factory=list)

    def _port(self, name: str) -> int:
        return free_port(DEFAULT_PORTS[name] if self.fixed_ports else None)

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        out = open(self.log_dir / f"{name}.log", "ab") if self.log_dir else subprocess.DEVNULL  # noqa: SIM115
        self._procs.append(subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=out,
                                            stderr=subprocess.STDOUT))

    def start(self, timeout: float = 30.0) -> None:
        import os

        console_port, oidc_port = self.port or self._port("console"), self._port("oidc")
        self.url, self.oidc_url = f"http://127.0.0.1:{console_port}", f"http://127.0.0.1:{oidc_port}"
        self._spawn("oidc", ["ttct_dev.oidc", "--port", str(oidc_port), "--data-dir", str(self.data_dir),
                             "--province", self.services.province,
                             "--client", f"{CLIENT_ID}={self.url}/auth/callback"])
        urls = self.services.urls
        self._spawn("console", ["console"], env={
            **os.environ, "PROVINCE_CODE": self.services.province, "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(console_port), "PUBLIC_URL": self.url,
            **{f"{s.upper()}_URL": urls[s] for s in ("scheduling", "enrolment", "assessment", "notification")},
            "OIDC_METADATA_URL": f"{self.oidc_url}/.well-known/openid-configuration", "OIDC_CLIENT_ID": CLIENT_ID,
            "SESSION_SECRET": secrets.token_urlsafe(32), **self.env})
        deadline = time.monotonic() + timeout
        for url in (f"{self.oidc_url}/.well-known/openid-configuration", f"{self.url}/healthz/ready"):
            while True:
                if any(p.poll() is not None for p in self._procs):
                    raise RuntimeError("the console or the identity provider exited; see their logs")
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} not ready after {timeout:.0f}s")
                time.sleep(0.1)

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._procs.clear()

    def __enter__(self) -> Console:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
