"""The ``ssl.SSLContext`` a Config asks for (CA, client certificate, verification)."""

from __future__ import annotations

import os
import ssl
import tempfile

from pyclientgo.config._types import Config
from pyclientgo.errors import ConfigError

__all__ = ["load_client_cert", "ssl_context_for"]


def load_client_cert(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """Load an in-memory PEM certificate and key (``ssl`` only reads files: a private temp dir is
    used for the duration of the call)."""
    with tempfile.TemporaryDirectory(prefix="pyclientgo-") as tmp:
        cert_path, key_path = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
        for path, data in ((cert_path, cert), (key_path, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        try:
            ctx.load_cert_chain(cert_path, key_path)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"invalid client certificate or key: {exc}") from exc


def ssl_context_for(config: Config, *, client_cert: tuple[bytes, bytes] | None = None) -> ssl.SSLContext:
    """An SSL context for ``config``; ``client_cert`` (PEM cert, key) overrides the Config's own
    (an exec plugin's certificate)."""
    try:
        if config.ca_data:
            ctx = ssl.create_default_context(cadata=config.ca_data.decode("ascii"))
        elif config.ca_file:
            ctx = ssl.create_default_context(cafile=config.ca_file)
        else:
            ctx = ssl.create_default_context()
    except (ssl.SSLError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid certificate authority: {exc}") from exc
    if config.insecure_skip_tls_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if client_cert is not None:
        load_client_cert(ctx, *client_cert)
    elif config.client_cert_data or config.client_cert_file:
        cert = config.client_cert_data
        key = config.client_key_data
        try:
            if cert is None and config.client_cert_file:
                with open(config.client_cert_file, "rb") as f:
                    cert = f.read()
            if key is None and config.client_key_file:
                with open(config.client_key_file, "rb") as f:
                    key = f.read()
        except OSError as exc:
            raise ConfigError(f"cannot read client certificate: {exc}") from exc
        if not cert or not key:
            raise ConfigError("a client certificate needs both a certificate and a key")
        load_client_cert(ctx, cert, key)
    return ctx
