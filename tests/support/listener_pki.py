"""A throwaway PKI, a user and web config files for the listener's TLS and basic auth tests."""

from __future__ import annotations

import base64
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import bcrypt

USER, PASSWORD = "prometheus", "scrape-Pa55-7Qx"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()  # cost 10: htpasswd's


@dataclass(frozen=True)
class Pki:
    """A throwaway CA, a server certificate for 127.0.0.1 signed by it, a client certificate
    signed by it, and a client certificate from a CA nobody trusts."""

    folder: Path

    def __getitem__(self, name: str) -> Path:
        return self.folder / name


def openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


def _signed(folder: Path, name: str, ca: str, subject: str, extensions: str) -> None:
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    openssl(folder, "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
    (folder / f"{name}.ext").write_text(extensions + "\n")
    openssl(
        folder, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
        "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext",
    )  # fmt: skip


def make_pki(folder: Path) -> Pki:
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2")
    for ca in ("ca", "rogue-ca"):
        openssl(folder, "req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
                 "-subj", f"/CN={ca}")  # fmt: skip
    _signed(folder, "server", "ca", "/CN=checkout-monitor", "subjectAltName=IP:127.0.0.1")
    _signed(folder, "client", "ca", "/CN=prometheus", "extendedKeyUsage=clientAuth")
    _signed(folder, "rogue", "rogue-ca", "/CN=prometheus", "extendedKeyUsage=clientAuth")
    return Pki(folder)


def web_config_file(folder: Path, text: str) -> Path:
    path = folder / "web.yml"
    path.write_text(text)
    return path


def tls_and_auth(pki: Pki, password_hash: str = HASH) -> str:
    return (
        f"tls_server_config:\n  cert_file: {pki['server.crt']}\n  key_file: {pki['server.key']}\n"
        f"basic_auth_users:\n  {USER}: '{password_hash}'\n"
    )


def trusting_ca(pki: Pki, client: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=pki["ca.crt"])
    if client:
        context.load_cert_chain(pki[f"{client}.crt"], pki[f"{client}.key"])
    return context


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
