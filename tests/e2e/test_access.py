"""Bearer tokens are verified on every call, and a caller sees only its own centre."""
import base64
import json
import time

import jwt
import pytest

from ttct_dev.tokens import AUDIENCE, ISSUER

pytestmark = pytest.mark.e2e
CLASS = {"programme_type": "chuyen_de", "title": "Chuyên đề", "capacity": 10, "starts_on": "2026-12-01",
         "ends_on": "2026-12-02", "venue": "Hội trường"}


def forged(alg: str, key: bytes | str | None, **claims) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "iat": now, "exp": now + 60, "role": "province-admin",
            "province": "thanh-hoa", **claims}
    if alg == "none":
        head = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
        payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=")
        return f"{head.decode()}.{payload.decode()}."
    return jwt.encode(body, key, algorithm=alg)


@pytest.fixture
def classes(services):
    return f"{services.urls['scheduling']}/v1/centres/hau-loc/classes"


async def test_a_call_without_a_token_is_refused_with_401_and_a_reason(classes, http):
    r = await http.get(classes, headers={"Authorization": ""})
    assert r.status_code == 401 and "bearer token is required" in r.json()["detail"]


@pytest.mark.parametrize("case", ["expired", "issuer", "audience", "province", "none", "hs-confusion", "garbage",
                                  "unknown-role"])
async def test_invalid_tokens_are_refused(case, classes, http, issuer):
    public = issuer.public_key_file.read_bytes()
    private = issuer.private_key_file.read_bytes()
    token = {
        "expired": lambda: forged("RS256", private, exp=int(time.time()) - 10),
        "issuer": lambda: forged("RS256", private, iss="someone-else"),
        "audience": lambda: forged("RS256", private, aud="another-api"),
        "province": lambda: forged("RS256", private, province="nghe-an"),
        "none": lambda: forged("none", None),
        # the public key used as an HMAC secret: must never verify
        "hs-confusion": lambda: forged_hs(public),
        "garbage": lambda: "not.a.jwt",
        "unknown-role": lambda: forged("RS256", private, role="superuser"),
    }[case]()
    r = await http.get(classes, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, (case, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")


def forged_hs(secret: bytes) -> str:
    # PyJWT refuses to sign HS256 with a PEM key, so build the token by hand, as an attacker would.
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60, "role": "province-admin",
                           "province": "thanh-hoa"}).encode())
    sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


async def test_another_centres_staff_sees_nothing_of_this_centre(services, classes, http, issuer):
    created = (await http.post(classes, json=CLASS)).json()
    stranger = issuer.headers("centre-staff", centre="nga-son")
    assert (await http.get(f"{classes}/{created['class_id']}", headers=stranger)).status_code == 404
    assert (await http.get(classes, headers=stranger)).status_code == 404
    assert (await http.post(classes, json=CLASS, headers=stranger)).status_code == 404


async def test_roles_do_only_what_they_may(classes, http, issuer):
    lecturer = issuer.headers("lecturer", centre="hau-loc")
    assert (await http.get(classes, headers=lecturer)).status_code == 200
    assert (await http.post(classes, json=CLASS, headers=lecturer)).status_code == 403
    organisation = issuer.headers("organisation", org="xa-hoa-loc")
    assert (await http.get(classes, headers=organisation)).status_code == 404
    admin = issuer.headers("province-admin")
    assert (await http.post(classes, json=CLASS, headers=admin)).status_code == 201
    reader = issuer.headers("integration", centre=["hau-loc"], scope="classes:read")
    assert (await http.get(classes, headers=reader)).status_code == 200
    assert (await http.post(classes, json=CLASS, headers=reader)).status_code == 403
