"""Checks proto/vectors/command-signature.json from proto/SIGNING.md alone, as an
integrator in another language would: builds each statement from the subject, the
headers and the body, and verifies the signature with the `cryptography` package.

Exit status 0 when every case answers right; 1 (with the failing cases) otherwise.
Usage: python3 check_signature_vectors.py path/to/command-signature.json
"""

import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from accord_signing import statement


def verifies(public_key, subject, headers, body):
    signature = base64.b64decode(headers["Accord-Signature"], validate=True)
    try:
        public_key.verify(signature, statement(subject, headers, body))
        return True
    except InvalidSignature:
        return False


def main(path):
    vector = json.load(open(path, encoding="utf-8"))
    failures = []
    seed = bytes.fromhex(vector["seed_hex"])
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    public_raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    if public_raw.hex() != vector["public_key_hex"]:
        failures.append("the seed does not give the public key")
    public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(vector["public_key_hex"]))
    body = vector["body"].encode()
    built = statement(vector["subject"], vector["headers"], body)
    if built.hex() != vector["statement_hex"]:
        failures.append("the statement built from the docs differs from the file's")
    # Ed25519 signatures are deterministic: signing again gives the same bytes.
    again = base64.b64encode(private_key.sign(built)).decode()
    if again != vector["signature_base64"] or again != vector["headers"]["Accord-Signature"]:
        failures.append("signing the statement again gives another signature")
    if not verifies(public_key, vector["subject"], vector["headers"], body):
        failures.append("the signed command does not verify")
    for case in vector["must_not_verify"]:
        if verifies(public_key, case["subject"], case["headers"], case["body"].encode()):
            failures.append(f"{case['name']}: verifies, but must not")
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"{1 + len(vector['must_not_verify'])} cases, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
