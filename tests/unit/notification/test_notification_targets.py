"""Which URLs a webhook may go to."""
import pytest

from notification.domain.targets import (
    Target, TargetRefused, WebhookUrlInvalid, address_refusal, check_addresses, check_host, parse_url,
)

pytestmark = pytest.mark.unit


def test_http_and_https_urls_are_parsed_with_their_default_ports():
    assert parse_url("https://Hooks.Example.org./ttct") == Target("https", "hooks.example.org", 443)
    assert parse_url("http://example.org:8080/x?y=1") == Target("http", "example.org", 8080)
    assert parse_url("http://[2001:db8::1]/x").host == "2001:db8::1"


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "example.org/hooks", "https:///x",
                                 "https://user:pw@example.org/", "http://example.org:99999/", "javascript:alert(1)"])
def test_other_urls_are_invalid(url):
    with pytest.raises(WebhookUrlInvalid):
        parse_url(url)


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.0.0.8", "private"), ("172.16.5.4", "private"), ("192.168.1.10", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("fe80::1%eth0", "link-local"),
    ("0.0.0.0", "private"), ("224.0.0.1", "multicast"), ("100.64.0.1", "non-public"),
    ("8.8.8.8", None), ("2001:4860:4860::8888", None),
])
def test_internal_addresses_are_named_for_what_they_are(address, reason):
    assert address_refusal(address) == reason


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/h", "http://localhost/h", "http://api.localhost/h",
                                 "https://10.1.2.3/h", "http://[::1]/h", "http://169.254.169.254/latest"])
def test_internal_targets_are_refused_unless_allowed(url):
    target = parse_url(url)
    with pytest.raises(TargetRefused) as refused:
        check_host(target, allow_private=False)
    assert refused.value.status == 422 and refused.value.detail_vi
    check_host(target, allow_private=True)


def test_a_public_name_passes_the_url_check_and_is_judged_by_what_it_resolves_to():
    target = parse_url("https://hooks.example.org/ttct")
    check_host(target, allow_private=False)
    check_addresses(target, ["93.184.216.34"], allow_private=False)
    with pytest.raises(TargetRefused, match="10.0.0.5"):
        check_addresses(target, ["93.184.216.34", "10.0.0.5"], allow_private=False)
    check_addresses(target, ["10.0.0.5"], allow_private=True)
