"""Which URLs a webhook may be sent to: http(s) only, and never to private, loopback or link-local addresses
unless the deployment allows them (tests and the demo run their receivers on loopback).

Checked when an endpoint is registered and again before every attempt, against the addresses the host then
resolves to, so a name that later points inside the network (DNS rebinding) is still refused.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ttct.domain.errors import Invalid


class WebhookUrlInvalid(Invalid):
    code = "webhook-url-invalid"


class TargetRefused(Invalid):
    code = "webhook-target-refused"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def parse_url(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlInvalid(f"not a valid URL: {exc}", f"URL không hợp lệ: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlInvalid("the webhook URL must start with http:// or https://",
                                "URL webhook phải bắt đầu bằng http:// hoặc https://")
    if not parts.hostname:
        raise WebhookUrlInvalid("the webhook URL has no host", "URL webhook thiếu tên máy chủ")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlInvalid("the webhook URL must not carry a user name or password",
                                "URL webhook không được chứa tên đăng nhập hoặc mật khẩu")
    host = parts.hostname.rstrip(".").lower()
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80))


def address_refusal(address: str) -> str | None:
    """Why an address may not be a webhook target by default ('loopback', 'private', ...), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for reason, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                         ("private", ip.is_private), ("multicast", ip.is_multicast),
                         ("unspecified", ip.is_unspecified)):
        if flag:
            return reason
    return None if ip.is_global else "non-public"


def _refused(host: str, address: str, reason: str) -> TargetRefused:
    return TargetRefused(
        f"webhook target {host} ({address}) is a {reason} address; sending to private, loopback and link-local "
        "addresses is not allowed",
        f"Địa chỉ webhook {host} ({address}) là địa chỉ nội bộ ({reason}); không được gửi tới địa chỉ nội bộ",
        host=host, address=address, reason=reason)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        return None


def check_host(target: Target, allow_private: bool) -> None:
    """Refuse what the URL alone shows to be internal: an internal IP literal or a localhost name."""
    if allow_private:
        return
    if target.host == "localhost" or target.host.endswith(".localhost"):
        raise _refused(target.host, target.host, "loopback")
    address = _literal(target.host)
    if address is not None and (reason := address_refusal(address)):
        raise _refused(target.host, address, reason)


def check_addresses(target: Target, addresses: Iterable[str], allow_private: bool) -> None:
    """Refuse a host if any address it resolves to is internal (an attacker controls which one is used)."""
    if allow_private:
        return
    for address in addresses:
        if reason := address_refusal(address):
            raise _refused(target.host, address, reason)
