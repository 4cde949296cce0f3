from __future__ import annotations

import datetime as dt
import json
import os
import ssl
import stat
import sys
from pathlib import Path

import httpx
import pytest
import respx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pyclientgo.config import (
    BearerTokenAuth,
    Config,
    ExecAuth,
    ExecConfig,
    ExecCredentialProvider,
    TokenFileAuth,
    auth_for,
    ssl_context_for,
)
from pyclientgo.config._exec import ExecCluster
from pyclientgo.errors import ConfigError, ExecPluginError, Unauthorized
from pyclientgo.rest import AsyncRESTClient, RESTClient
from pyclientgo.testing import AsyncFakeClock, FakeClock

HOST = "http://k8s.test"


def self_signed(cn: str = "client") -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def test_auth_selection() -> None:
    assert auth_for(Config(host=HOST)) is None
    assert isinstance(auth_for(Config(host=HOST, bearer_token="t")), BearerTokenAuth)
    assert isinstance(auth_for(Config(host=HOST, bearer_token="t", bearer_token_file="/f")), TokenFileAuth)
    assert isinstance(auth_for(Config(host=HOST, username="u", password="p")), httpx.BasicAuth)
    assert isinstance(auth_for(Config(host=HOST, exec_provider=ExecConfig(command="x"))), ExecAuth)
    with pytest.raises(ConfigError):
        auth_for(Config(host=HOST, bearer_token="t", username="u"))


@respx.mock
def test_basic_auth_header() -> None:
    route = respx.get(f"{HOST}/api").mock(return_value=httpx.Response(200))
    with RESTClient(Config(host=HOST, username="u", password="p")) as client:
        client.request("GET", "/api")
    assert route.calls.last.request.headers["authorization"] == "Basic dTpw"


@respx.mock
async def test_token_file_rotation(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("one\n")
    now = [0.0]
    auth = TokenFileAuth(str(token), clock=lambda: now[0])
    route = respx.get(f"{HOST}/api").mock(return_value=httpx.Response(200))
    async with httpx.AsyncClient(auth=auth) as http:
        await http.get(f"{HOST}/api")
        token.write_text("two")
        await http.get(f"{HOST}/api")  # cached for a minute
        now[0] = 61.0
        await http.get(f"{HOST}/api")
        token.unlink()  # unreadable: keep the last good token
        now[0] = 200.0
        await http.get(f"{HOST}/api")
    assert [c.request.headers["authorization"] for c in route.calls] == [
        "Bearer one",
        "Bearer one",
        "Bearer two",
        "Bearer two",
    ]


@respx.mock
def test_token_file_reread_after_401(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("old")
    route = respx.get(f"{HOST}/api").mock(
        side_effect=lambda req: httpx.Response(200 if req.headers["authorization"] == "Bearer new" else 401)
    )
    auth = TokenFileAuth(str(token), clock=lambda: 0.0)
    with httpx.Client(auth=auth) as http:
        assert http.get(f"{HOST}/api").status_code == 401
        token.write_text("new")
        assert http.get(f"{HOST}/api").status_code == 200
    assert route.call_count == 3


def test_client_cert_ssl_context(tmp_path: Path) -> None:
    cert, key = self_signed()
    ctx = ssl_context_for(Config(host="https://h", client_cert_data=cert, client_key_data=key, ca_data=cert))
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_REQUIRED
    (tmp_path / "c.crt").write_bytes(cert)
    (tmp_path / "c.key").write_bytes(key)
    ssl_context_for(
        Config(
            host="https://h",
            client_cert_file=str(tmp_path / "c.crt"),
            client_key_file=str(tmp_path / "c.key"),
        )
    )
    insecure = ssl_context_for(Config(host="https://h", insecure_skip_tls_verify=True))
    assert insecure.verify_mode == ssl.CERT_NONE and not insecure.check_hostname
    _, other_key = self_signed("other")
    with pytest.raises(ConfigError):
        ssl_context_for(Config(host="https://h", client_cert_data=cert, client_key_data=other_key))
    with pytest.raises(ConfigError):
        ssl_context_for(Config(host="https://h", client_cert_data=cert))
    with pytest.raises(ConfigError):
        ssl_context_for(Config(host="https://h", ca_data=b"not a pem"))


PLUGIN = """#!{python}
import json, os, sys
state = {state!r}
n = int(open(state).read()) + 1 if os.path.exists(state) else 1
open(state, "w").write(str(n))
open(state + ".info", "w").write(os.environ.get("KUBERNETES_EXEC_INFO", ""))
open(state + ".env", "w").write(os.environ.get("EXTRA", ""))
mode = sys.argv[1] if len(sys.argv) > 1 else "token"
if mode == "fail":
    print("nope", file=sys.stderr)
    sys.exit(3)
status = {{}}
if mode == "token":
    status["token"] = "tok-%d" % n
    if {expiry!r}:
        status["expirationTimestamp"] = {expiry!r}
elif mode == "cert":
    status["clientCertificateData"] = open({cert!r}).read()
    status["clientKeyData"] = open({key!r}).read()
print(json.dumps({{"apiVersion": "{api}", "kind": "ExecCredential", "status": status}}))
"""


def plugin(
    tmp_path: Path, *, api: str = "client.authentication.k8s.io/v1", expiry: str = ""
) -> tuple[Path, Path]:
    cert, key = self_signed()
    (tmp_path / "c.crt").write_bytes(cert)
    (tmp_path / "c.key").write_bytes(key)
    state = tmp_path / "state"
    script = tmp_path / "plugin.py"
    script.write_text(
        PLUGIN.format(
            python=sys.executable,
            state=str(state),
            expiry=expiry,
            api=api,
            cert=str(tmp_path / "c.crt"),
            key=str(tmp_path / "c.key"),
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, state


@pytest.mark.parametrize("api", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
def test_exec_plugin_token_cached_and_cluster_info(tmp_path: Path, api: str) -> None:
    script, state = plugin(tmp_path, api=api)
    cfg = ExecConfig(
        command=str(script),
        api_version=api,
        env={"EXTRA": "yes"},
        provide_cluster_info=True,
        interactive_mode="Never",
        cluster_config={"k": "v"},
    )
    provider = ExecCredentialProvider(cfg, ExecCluster(server="https://h", ca_data=b"CA", config={"k": "v"}))
    assert provider.get().token == "tok-1"
    assert provider.get().token == "tok-1"  # cached: no expiry
    assert provider.runs == 1
    info = json.loads(Path(str(state) + ".info").read_text())
    assert info["apiVersion"] == api and info["kind"] == "ExecCredential"
    assert info["spec"]["interactive"] is False
    assert info["spec"]["cluster"] == {
        "server": "https://h",
        "certificate-authority-data": "Q0E=",
        "config": {"k": "v"},
    }
    assert Path(str(state) + ".env").read_text() == "yes"


def test_exec_plugin_expiry_reruns(tmp_path: Path) -> None:
    script, _ = plugin(tmp_path, expiry="2030-01-01T00:00:00Z")
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC).timestamp()
    now = [expires - 100]
    provider = ExecCredentialProvider(ExecConfig(command=str(script)), wall_clock=lambda: now[0])
    first = provider.get()
    assert first.token == "tok-1" and first.expiration == expires
    now[0] = expires - 1
    assert provider.get().token == "tok-1"
    now[0] = expires + 1
    assert provider.get().token == "tok-2"
    assert provider.runs == 2


def test_exec_plugin_errors(tmp_path: Path) -> None:
    script, _ = plugin(tmp_path)
    with pytest.raises(ExecPluginError, match="exited with status 3: nope"):
        ExecCredentialProvider(ExecConfig(command=str(script), args=["fail"])).get()
    with pytest.raises(ExecPluginError, match=r"(?s)not found.*install it"):
        ExecCredentialProvider(ExecConfig(command="no-such-plugin-xyz", install_hint="install it")).get()
    with pytest.raises(ExecPluginError, match="API version"):
        ExecCredentialProvider(
            ExecConfig(command=str(script), api_version="client.authentication.k8s.io/v1beta1")
        ).get()
    with pytest.raises(ExecPluginError, match="interactive"):
        ExecCredentialProvider(ExecConfig(command=str(script), interactive_mode="Always")).get()


@respx.mock
async def test_exec_auth_reruns_once_on_401(tmp_path: Path) -> None:
    script, _ = plugin(tmp_path)
    route = respx.get(f"{HOST}/api").mock(
        side_effect=lambda req: httpx.Response(200 if req.headers["authorization"] == "Bearer tok-2" else 401)
    )
    cfg = Config(host=HOST, exec_provider=ExecConfig(command=str(script)))
    async with AsyncRESTClient(cfg, clock=AsyncFakeClock()) as client:
        resp = await client.request("GET", "/api")
        assert resp.status_code == 200
        await client.request("GET", "/api")  # the fresh token is cached
    assert [c.request.headers["authorization"] for c in route.calls] == [
        "Bearer tok-1",
        "Bearer tok-2",
        "Bearer tok-2",
    ]


@respx.mock
def test_exec_auth_gives_up_after_one_rerun(tmp_path: Path) -> None:
    script, _ = plugin(tmp_path)
    route = respx.get(f"{HOST}/api").mock(return_value=httpx.Response(401))
    cfg = Config(host=HOST, exec_provider=ExecConfig(command=str(script)))
    with RESTClient(cfg, clock=FakeClock()) as client, pytest.raises(Unauthorized):
        client.request("GET", "/api")
    assert route.call_count == 2


@respx.mock
async def test_exec_client_certificate(tmp_path: Path) -> None:
    script, _ = plugin(tmp_path)
    route = respx.get(f"{HOST}/api").mock(return_value=httpx.Response(200))
    cfg = Config(host=HOST, exec_provider=ExecConfig(command=str(script), args=["cert"]))
    async with AsyncRESTClient(cfg, clock=AsyncFakeClock()) as client:
        await client.request("GET", "/api")
        transport = client._http._transport
        assert transport._key is not None  # type: ignore[attr-defined]
        assert transport._key[0] == (tmp_path / "c.crt").read_bytes()  # type: ignore[attr-defined]
    assert "authorization" not in route.calls.last.request.headers
    assert os.path.exists(tmp_path / "state")
