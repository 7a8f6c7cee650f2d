"""TLS: the app refuses a certificate it cannot verify (unlike the st2 CLI without a CA bundle), trusts
the one `--cacert` names, and with `--insecure` connects but says so in the header for good.

The embedded server speaks plain HTTP; a loopback TLS terminator with a self-signed certificate for
127.0.0.1 stands in front of it, as nginx does in front of st2."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from support.tui import wait_for

from st2tui.api import St2Client
from st2tui.app import St2TuiApp
from st2tui.config import Connection, Settings
from st2tui.widgets.executions import ExecutionsPane
from st2tui.widgets.header import StatusHeader


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "st2 test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@contextlib.asynccontextmanager
async def _tls_terminator(cert: Path, key: Path, port: int) -> AsyncIterator[str]:
    """https://127.0.0.1:<free port> forwarding to http://127.0.0.1:<port>."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return _self_signed(tmp_path)


def _app(base: str, password: str, monkeypatch, tmp_path: Path, **tls) -> St2TuiApp:
    monkeypatch.setenv("ST2TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    connection = Connection(
        api_url=f"{base}/api/v1",
        auth_url=f"{base}/auth/v1",
        stream_url=f"{base}/stream/v1",
        base_url=base,
        username="st2admin",
        password=password,
        cache_token=False,
        **tls,
    )
    app = St2TuiApp(St2Client.from_connection(connection), connection, Settings())
    app.crash_dir = tmp_path / "crash-reports"
    return app


def _header(app) -> str:
    return app.main_screen.query_one(StatusHeader).render().plain


async def test_an_unverifiable_certificate_is_refused_by_default(
    st2_server, certificate, monkeypatch, tmp_path
):
    async with _tls_terminator(*certificate, st2_server.port) as base:
        app = _app(base, st2_server.password, monkeypatch, tmp_path)
        async with app.run_test(size=(160, 36)) as pilot:
            await wait_for(
                pilot,
                lambda: any("is not trusted" in n.message for n in app._notifications),
                what="the refused certificate",
            )
            told = next(n.message for n in app._notifications if "is not trusted" in n.message)
            assert f"The certificate of {base} is not trusted" in told and "--cacert" in told, told
            assert "cannot reach" in _header(app)
            assert not app.main_screen.signed_in


async def test_the_cacert_given_is_trusted(st2_server, certificate, monkeypatch, tmp_path):
    async with _tls_terminator(*certificate, st2_server.port) as base:
        app = _app(base, st2_server.password, monkeypatch, tmp_path, cacert=str(certificate[0]))
        async with app.run_test(size=(160, 36)) as pilot:
            pane = app.main_screen.query_one(ExecutionsPane)
            await wait_for(pilot, lambda: pane.table.row_count > 0 and "live" in _header(app), what="live")
            assert "TLS NOT VERIFIED" not in _header(app)


async def test_insecure_connects_and_says_so_for_good(st2_server, certificate, monkeypatch, tmp_path):
    async with _tls_terminator(*certificate, st2_server.port) as base:
        app = _app(base, st2_server.password, monkeypatch, tmp_path, insecure=True)
        async with app.run_test(size=(160, 36)) as pilot:
            pane = app.main_screen.query_one(ExecutionsPane)
            await wait_for(pilot, lambda: pane.table.row_count > 0 and "live" in _header(app), what="live")
            for key in ("2", "3", "4", "5", "1"):
                await pilot.press(key)
                await pilot.pause()
                assert "TLS NOT VERIFIED" in _header(app)


async def test_https_to_a_plain_http_server_says_to_use_http_where_the_rows_would_be(
    st2_server, monkeypatch, tmp_path
):
    base = f"https://127.0.0.1:{st2_server.port}"  # the demo speaks plain HTTP
    app = _app(base, st2_server.password, monkeypatch, tmp_path)
    async with app.run_test(size=(160, 36)) as pilot:
        pane = app.main_screen.query_one(ExecutionsPane)
        advice = f"{base} answered in plain HTTP, not HTTPS: use http://127.0.0.1:{st2_server.port}"
        await wait_for(pilot, lambda: advice in pane.table.empty_text, what="the advice in the list")
        assert "WRONG_VERSION_NUMBER" not in pane.table.empty_text
        assert any(advice in n.message for n in app._notifications)
        assert "cannot reach" in _header(app)
