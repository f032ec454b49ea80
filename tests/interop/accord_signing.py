"""The signed statement of proto/SIGNING.md, as an integrator writes it from the
docs: shared by the interop scripts beside this file."""

import hashlib


def statement(subject, headers, body):
    """The statement a command's Accord-Signature is over, from the request's
    subject, headers (a dict) and body (bytes)."""
    command_id = headers["Accord-Command-Id"]
    json_body = headers.get("Content-Type", "").strip().lower().startswith("application/json")
    fields = [
        ("accord-command-signature", "v1"),
        ("subject", subject),
        ("command-id", command_id),
        ("actor", headers["Accord-Actor"]),
        ("occurred-at", headers["Accord-Occurred-At"]),
        ("expected-version", headers.get("Accord-Expected-Version", "")),
        ("correlation-id", headers.get("Accord-Correlation-Id", command_id)),
        ("causation-id", headers.get("Accord-Causation-Id", "")),
        ("content-type", "application/json" if json_body else ""),
        ("body-sha256", hashlib.sha256(body).hexdigest()),
    ]
    return "".join(f"{name}: {value}\n" for name, value in fields).encode()
