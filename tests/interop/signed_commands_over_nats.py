"""An integrator's client in Python, written from proto/SIGNING.md and the README:
over a real nats-server, the UA administrator (a trust root) registers two actors
with signed RegisterActor commands, one of them then signs a DraftAgreement, and a
forged command (signed with a key that is not the actor's) is refused.

Prints one line per command and exits 0 when every answer is the expected one.
Usage: python3 signed_commands_over_nats.py NATS_URL ADMIN_SEED_HEX ACTOR_SEED_HEX
"""

import asyncio
import base64
import json
import sys
import uuid
from datetime import datetime, timezone

import nats
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord_signing import statement


def public_key(key):
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


async def send(nc, command, actor, key, body):
    subject = f"accord.agreements.cmd.{command}"
    payload = json.dumps(body).encode()
    # Canonical RFC 3339 in UTC, whole seconds: the form the statement takes.
    now = datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "Accord-Actor": actor,
        "Accord-Command-Id": str(uuid.uuid4()),
        "Accord-Occurred-At": now,
        "Content-Type": "application/json",
    }
    headers["Accord-Signature"] = base64.b64encode(key.sign(statement(subject, headers, payload))).decode()
    reply = await nc.request(subject, payload, timeout=10, headers=headers)
    return json.loads(reply.data)


async def main(url, admin_seed, actor_seed):
    admin = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(admin_seed))
    umerov = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(actor_seed))
    stranger = Ed25519PrivateKey.generate()
    nc = await nats.connect(url)
    expected = []

    def register(actor, key):
        return {"actorId": actor, "name": actor, "party": {"id": "UA"},
                "role": "Minister of Defence", "publicKey": public_key(key)}

    draft = {"agreementId": "lt-ua", "kind": "AGREEMENT_KIND_STRATEGIC_COOPERATION",
             "title": "Strategic cooperation", "parties": [{"id": "LT"}, {"id": "UA"}],
             "areas": ["CAPABILITY_AREA_UAV"], "reason": "signed in Kyiv"}
    cases = [
        ("RegisterActor ua-umerov by ua-admin", "RegisterActor", "ua-admin", admin,
         register("ua-umerov", umerov), "command"),
        ("RegisterActor ua-fedorov by ua-admin", "RegisterActor", "ua-admin", admin,
         register("ua-fedorov", Ed25519PrivateKey.generate()), "command"),
        ("DraftAgreement by ua-umerov", "DraftAgreement", "ua-umerov", umerov, draft, "command"),
        ("forged DraftAgreement as ua-umerov", "DraftAgreement", "ua-umerov", stranger,
         dict(draft, agreementId="lt-ua-forged"), "unauthenticated/bad_signature"),
    ]
    failures = 0
    for name, command, actor, key, body, want in cases:
        reply = await send(nc, command, actor, key, body)
        got = "command" if "command" in reply else \
            f"{reply['error']['code']}/{reply['error']['reason']}"
        ok = got == want
        failures += not ok
        print(f"{'ok' if ok else 'FAIL'} {name}: {got}")
    await nc.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3])))
