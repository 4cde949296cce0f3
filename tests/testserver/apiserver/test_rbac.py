"""RBAC authorization (--authorization-mode RBAC) against a real server and the real kubectl:
users are client certificates signed by the cluster CA (CN = user, O = groups)."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from testserver.testing import TestServer

KUBECTL = shutil.which("kubectl")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    srv = TestServer(data_dir=tmp_path_factory.mktemp("rbac"), extra_args=["--authorization-mode", "RBAC"])
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def user_kubeconfig(server: TestServer, path: Path, user: str, groups: tuple[str, ...] = ()) -> Path:
    """A kubeconfig for ``user`` (groups as O) with a client certificate signed by the server's CA."""
    pki = server.data_dir / "pki"
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {
                    "server": server.url,
                    "certificate-authority-data": b64(ca.public_bytes(serialization.Encoding.PEM)),
                },
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": b64(cert.public_bytes(serialization.Encoding.PEM)),
                    "client-key-data": b64(
                        key.private_bytes(
                            serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption(),
                        )
                    ),
                },
            }
        ],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": user}}],
        "current-context": "c",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.05)


def apply(server: TestServer, manifest: str) -> None:
    out = kubectl(server.kubeconfig, "apply", "-f", "-", stdin=manifest)
    assert out.returncode == 0, out.stderr


def test_unbound_user_is_forbidden_with_kubes_message(server: TestServer, tmp_path: Path) -> None:
    alice = user_kubeconfig(server, tmp_path / "alice", "alice")
    out = kubectl(alice, "get", "pods", "-n", "default")
    assert out.returncode == 1
    assert (
        'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" '
        'in API group "" in the namespace "default"'
    ) in out.stderr
    out = kubectl(alice, "get", "nodes")
    assert (
        'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope'
        in (out.stderr)
    )
    out = kubectl(alice, "get", "deployments.apps", "web", "-n", "default")
    assert (
        'deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments" '
        'in API group "apps" in the namespace "default"'
    ) in out.stderr
    out = kubectl(alice, "get", "--raw", "/metrics")
    assert 'forbidden: User "alice" cannot get path "/metrics"' in out.stderr
    # the admin (system:masters) is allowed everything; discovery is open to authenticated users
    assert kubectl(server.kubeconfig, "get", "pods", "-A").returncode == 0
    assert kubectl(alice, "get", "--raw", "/apis").returncode == 0


def test_role_binding_grants_in_its_namespace_only(server: TestServer, tmp_path: Path) -> None:
    assert kubectl(server.kubeconfig, "create", "namespace", "team").returncode in (0, 1)
    apply(
        server,
        """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: team}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
- {apiGroups: [""], resources: [configmaps], resourceNames: [cm1], verbs: [get]}
- {apiGroups: [""], resources: [pods/log], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-reads, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
""",
    )
    bob = user_kubeconfig(server, tmp_path / "bob", "bob")
    eventually(lambda: kubectl(bob, "get", "pods", "-n", "team").returncode == 0)
    assert "cannot list resource" in kubectl(bob, "get", "pods", "-n", "default").stderr
    # resourceNames: cm1 is readable (NotFound, not Forbidden), cm2 is not
    assert "NotFound" in kubectl(bob, "get", "configmap", "cm1", "-n", "team").stderr
    out = kubectl(bob, "get", "configmap", "cm2", "-n", "team")
    assert (
        'configmaps "cm2" is forbidden: User "bob" cannot get resource "configmaps" in API group "" '
        'in the namespace "team"'
    ) in out.stderr
    # verbs: list only, no create
    out = kubectl(bob, "create", "configmap", "x", "-n", "team")
    assert 'cannot create resource "configmaps"' in out.stderr
    # deleting the binding takes the grant away
    assert kubectl(server.kubeconfig, "delete", "rolebinding", "bob-reads", "-n", "team").returncode == 0
    eventually(lambda: "Forbidden" in kubectl(bob, "get", "pods", "-n", "team").stderr)


def test_cluster_role_binding_to_a_group(server: TestServer, tmp_path: Path) -> None:
    apply(
        server,
        """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-lister}
rules:
- {apiGroups: [""], resources: [nodes], verbs: [list]}
- {nonResourceURLs: [/metrics], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: devs-list-nodes}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-lister}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: devs}
""",
    )
    carol = user_kubeconfig(server, tmp_path / "carol", "carol", ("devs",))
    dave = user_kubeconfig(server, tmp_path / "dave", "dave", ("ops",))
    eventually(lambda: kubectl(carol, "get", "nodes").returncode == 0)
    assert kubectl(carol, "get", "--raw", "/metrics").returncode == 0
    assert "Forbidden" in kubectl(dave, "get", "nodes").stderr
    assert "Forbidden" in kubectl(carol, "get", "node", "n1").stderr  # list, not get


def test_bootstrap_policy_is_stored(server: TestServer) -> None:
    out = kubectl(server.kubeconfig, "get", "clusterrolebinding", "cluster-admin", "-o", "yaml")
    assert out.returncode == 0, out.stderr
    binding = yaml.safe_load(out.stdout)
    assert binding["roleRef"]["name"] == "cluster-admin"
    assert binding["subjects"][0]["name"] == "system:masters"


def test_always_deny_still_allows_system_masters(tmp_path: Path) -> None:
    srv = TestServer(data_dir=tmp_path / "deny", extra_args=["--authorization-mode", "AlwaysDeny"])
    srv.start()
    try:
        assert kubectl(srv.kubeconfig, "get", "pods").returncode == 0
        eve = user_kubeconfig(srv, tmp_path / "eve", "eve")
        out = kubectl(eve, "get", "--raw", "/api/v1/namespaces/default/pods")
        assert "Everything is forbidden." in out.stderr
    finally:
        srv.stop()


def test_kubectl_auth_can_i_matrix(server: TestServer, tmp_path: Path) -> None:
    apply(
        server,
        """
apiVersion: v1
kind: Namespace
metadata: {name: qa}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: logs, namespace: qa}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
- {apiGroups: [""], resources: [pods/log], verbs: [get]}
- {apiGroups: [apps], resources: [deployments], resourceNames: [web], verbs: [patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: frank-logs, namespace: qa}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: logs}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: frank}
""",
    )
    frank = user_kubeconfig(server, tmp_path / "frank", "frank")

    def can_i(*args: str) -> str:
        out = kubectl(frank, "auth", "can-i", *args)
        return out.stdout.strip()

    eventually(lambda: can_i("list", "pods", "-n", "qa") == "yes")
    matrix = {
        ("watch", "pods", "-n", "qa"): "yes",
        ("list", "pods", "-n", "default"): "no",
        ("delete", "pods", "-n", "qa"): "no",
        ("get", "pods", "--subresource", "log", "-n", "qa"): "yes",
        ("get", "pods", "--subresource", "exec", "-n", "qa"): "no",
        ("patch", "deployments.apps/web", "-n", "qa"): "yes",
        ("patch", "deployments.apps/api", "-n", "qa"): "no",
        ("list", "nodes"): "no",
        ("get", "/api"): "yes",
        ("get", "/metrics"): "no",
        ("create", "selfsubjectaccessreviews.authorization.k8s.io"): "yes",
    }
    answers = {args: can_i(*args) for args in matrix}
    assert answers == matrix
    # the admin asks about frank through a SubjectAccessReview (kubectl auth can-i --as is impersonation,
    # not done yet), and about itself
    assert kubectl(server.kubeconfig, "auth", "can-i", "delete", "nodes").stdout.strip() == "yes"
    listed = kubectl(frank, "auth", "can-i", "--list", "-n", "qa")
    assert listed.returncode == 0, listed.stderr
    lines = [line.split() for line in listed.stdout.splitlines()]
    assert ["pods", "[]", "[]", "[get", "list", "watch]"] in lines
    assert ["pods/log", "[]", "[]", "[get]"] in lines
    assert ["deployments.apps", "[]", "[web]", "[patch]"] in lines
    assert ["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"] in lines


def test_subject_access_review_and_bad_reviews(server: TestServer) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(
        base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_cert)), headers=headers
    ) as c:
        sar = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": "nobody",
                "resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "x"},
            },
        }
        r = c.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=sar)
        assert r.status_code == 201 and r.json()["status"] == {"allowed": False}
        sar["spec"]["groups"] = ["system:masters"]  # type: ignore[index]
        r = c.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=sar)
        assert r.json()["status"]["allowed"] is True
        bad = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {"user": "a"}}
        r = c.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=bad)
        assert r.status_code == 422 and r.json()["reason"] == "Invalid"
        r = c.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", content=b"{not json")
        assert r.status_code == 400
        local = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "LocalSubjectAccessReview",
            "spec": {
                "user": "a",
                "resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "other"},
            },
        }
        r = c.post("/apis/authorization.k8s.io/v1/namespaces/x/localsubjectaccessreviews", json=local)
        assert r.status_code == 422


def test_impersonation(server: TestServer, tmp_path: Path) -> None:
    apply(
        server,
        """
apiVersion: v1
kind: Namespace
metadata: {name: imp}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader, namespace: imp}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: gina-reads, namespace: imp}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: gina}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: impersonate-gina}
rules:
- {apiGroups: [""], resources: [users], resourceNames: [gina], verbs: [impersonate]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: hank-impersonates-gina}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonate-gina}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: hank}
""",
    )
    admin = server.kubeconfig
    eventually(
        lambda: (
            kubectl(admin, "auth", "can-i", "list", "configmaps", "-n", "imp", "--as", "gina").stdout.strip()
            == "yes"
        )
    )
    assert kubectl(admin, "auth", "can-i", "list", "pods", "-n", "imp", "--as", "gina").stdout.strip() == "no"
    who = kubectl(admin, "auth", "whoami", "--as", "gina", "--as-group", "team-a", "-o", "json")
    assert who.returncode == 0, who.stderr
    info = yaml.safe_load(who.stdout)["status"]["userInfo"]
    assert info["username"] == "gina" and info["groups"] == ["team-a", "system:authenticated"]
    hank = user_kubeconfig(server, tmp_path / "hank", "hank")
    eventually(lambda: kubectl(hank, "get", "configmaps", "-n", "imp", "--as", "gina").returncode == 0)
    out = kubectl(hank, "get", "configmaps", "-n", "imp", "--as", "ivan")
    assert (
        'users "ivan" is forbidden: User "hank" cannot impersonate resource "users" in API group "" '
        "at the cluster scope"
    ) in out.stderr
    out = kubectl(hank, "get", "configmaps", "-n", "imp", "--as", "gina", "--as-group", "system:masters")
    assert (
        'groups "system:masters" is forbidden: User "hank" cannot impersonate resource "groups"' in out.stderr
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Foo", "authorization-mode 'Foo' is not a valid mode"),
        ("RBAC,RBAC", "has mode specified more than once"),
        (",", "at least one authorization mode must be passed"),
    ],
)
def test_bad_authorization_mode_flag(tmp_path: Path, value: str, message: str) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "testserver.cli",
            "apiserver",
            "--data-dir",
            str(tmp_path),
            f"--authorization-mode={value}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert message in out.stderr
