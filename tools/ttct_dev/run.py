"""`make run`: the whole system on this machine (the four services, the console and a local identity provider), on embedded servers unless NATS_URL / DATABASE_URL are given.

Data lives under .data/ (or --data-dir), so running it again resumes where it stopped. The services listen on
8001-8004 (or from --first-port on); a port another program holds is named loudly. Ctrl-C stops it all, quietly.
Webhooks may go to private and loopback addresses here (WEBHOOK_ALLOW_PRIVATE_TARGETS=true unless set otherwise):
on one machine, an organisation's receiver is a local one. Never so in a deployment.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from ttct_dev.console import DEFAULT_PORTS as CONSOLE_PORTS
from ttct_dev.console import Console
from ttct_dev.oidc import DEMO_ACCOUNTS, DEMO_PASSWORD, ROLE_NAMES
from ttct_dev.services import DEFAULT_PORTS, SERVICES, Services, free_port, moved_warning
from ttct_dev.stack import SUBSCRIBERS, LocalStack
from ttct_dev.tokens import LocalIssuer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".data"))
    parser.add_argument("--province", default=os.getenv("PROVINCE_CODE", "thanh-hoa"))
    parser.add_argument("--first-port", type=int, default=DEFAULT_PORTS[SERVICES[0]],
                        help="the services' ports: this one and the next three (default 8001-8004)")
    args = parser.parse_args()
    ports = {service: args.first_port + i for i, service in enumerate(SERVICES)}
    dev_only = {"WEBHOOK_ALLOW_PRIVATE_TARGETS": os.environ.get("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")}
    # the console's port is chosen first: certificates' QR codes lead to its public verification page
    console_port = free_port(CONSOLE_PORTS["console"])
    dev_only["CERTIFICATE_VERIFICATION_URL"] = os.environ.get("CERTIFICATE_VERIFICATION_URL",
                                                              f"http://127.0.0.1:{console_port}/verify")
    logs = args.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    stop = threading.Event()
    # Ctrl-C and SIGTERM both stop cleanly; set SIGINT explicitly, as a shell may have started us ignoring it.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with LocalStack(args.data_dir) as stack:
        info = stack.start()
        with Services(info, LocalIssuer(args.data_dir), province=args.province, log_dir=logs, fixed_ports=True,
                      ports=ports, env=dev_only) as services, \
                Console(services, args.data_dir, log_dir=logs, fixed_ports=True, port=console_port) as console:
            print(f"\nThe training-centre system is running (province {args.province}).")
            nats_address = info.nats_url.rsplit("@", 1)[-1]  # the admin password stays in .data/nats-users.json
            print(f"  NATS        nats://{nats_address}  (users and passwords: {args.data_dir}/nats-users.json)")
            print(f"  PostgreSQL  {info.postgres_url}")
            for name, url in info.nats_subscribers.items():  # read-only: may show its password
                centres = ", ".join(SUBSCRIBERS[name])
                print(f"  Subscriber  {url}  (read-only, centre {centres}: examples/README.md)")
            print()
            for name, url in services.urls.items():
                print(f"  {name:<13} {url}/v1   API docs: {url}/docs")
            for name, wanted in services.moved.items():
                print(f"\n{moved_warning(name, wanted, services.urls[name])}", file=sys.stderr, flush=True)
            if dev_only["WEBHOOK_ALLOW_PRIVATE_TARGETS"] == "true":
                print("\nWebhook endpoints may be on this machine (WEBHOOK_ALLOW_PRIVATE_TARGETS=true: for "
                      "development only).")
            print(f"\n  Console       {console.url}   (identity provider {console.oidc_url})")
            verify = dev_only["CERTIFICATE_VERIFICATION_URL"]
            print(f"  Certificates  {verify}/<code>   (where the QR codes lead; no sign-in)")
            print(f"  Demo accounts (password {DEMO_PASSWORD}):")
            for a in DEMO_ACCOUNTS:
                print(f"    {a.username:<18} {a.name:<16} {ROLE_NAMES[a.role]:<18} {a.centre or a.org or args.province}")
            print(f"\nLogs: {logs}/<service>.log   Stop with Ctrl-C.")
            print("Every call needs a bearer token: make token ROLE=centre-staff CENTRE=hau-loc\n", flush=True)
            while not stop.wait(0.5):
                pass
            print("Stopping…", flush=True)
    print("Stopped; data kept in", args.data_dir)


if __name__ == "__main__":
    main()
