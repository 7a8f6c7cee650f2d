"""The client's errors: one `St2Error` family, for HTTP statuses, transport failures and bad answers.

Imports no httpx (the first frame's widgets import these classes; httpx loads after it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


class St2Error(Exception):
    """Any failure talking to StackStorm.

    ``status`` is the HTTP status (None for network failures), ``faultstring`` st2's error message,
    ``request_id`` the ``X-Request-ID`` response header and ``conflict_id`` the id of the existing
    object on a 409.
    """

    def __init__(
        self,
        faultstring: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        conflict_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(faultstring)
        self.faultstring = faultstring
        self.status = status
        self.request_id = request_id
        self.conflict_id = conflict_id
        self.method = method
        self.url = url

    def __str__(self) -> str:
        prefix = f"HTTP {self.status}: " if self.status is not None else ""
        return f"{prefix}{self.faultstring}"


class BadRequest(St2Error):
    """400: invalid parameters, body or state transition."""


class Unauthorized(St2Error):
    """401: missing, unknown or expired credentials (after any automatic re-login)."""


class Forbidden(St2Error):
    """403: RBAC denied the operation."""


class NotFound(St2Error):
    """404: unknown object or route."""


class Conflict(St2Error):
    """409: the object already exists; ``conflict_id`` names it."""


class ServerError(St2Error):
    """5xx, including nginx's 503 when an st2 service is down."""


class OperationRejected(St2Error):
    """The server answered 200 but refused the operation (e.g. cancel of a finished execution)."""


class MalformedResponse(St2Error):
    """The response could not be understood (bad JSON, wrong shape, not an event stream)."""


class NetworkError(St2Error):
    """The request did not get an HTTP answer."""


class ConnectionFailed(NetworkError):
    """Connection refused, DNS failure, TLS failure or connection dropped."""


class RequestTimeout(NetworkError):
    """No answer within the configured timeout."""


def transport_reason(exc: BaseException, url: httpx.URL) -> str:
    """Why a request got no answer, in words an operator can act on (not `[SSL: WRONG_VERSION_NUMBER]`)."""
    where = f"{url.scheme}://{url.netloc.decode()}"
    text = str(exc) or type(exc).__name__
    if url.scheme == "https" and any(
        marker in text
        for marker in ("WRONG_VERSION_NUMBER", "record layer failure", "packet length too long")
    ):
        plain = url.copy_with(scheme="http")
        return (
            f"{where} answered in plain HTTP, not HTTPS: use "
            f"{plain.scheme}://{plain.netloc.decode()} (or put TLS in front of it)"
        )
    if "CERTIFICATE_VERIFY_FAILED" in text:
        detail = (
            text.split("certificate verify failed:", 1)[-1].strip(" )]'\"")
            if "verify failed:" in text
            else ""
        )
        return (
            f"The certificate of {where} is not trusted{f' ({detail})' if detail else ''}: "
            "give its CA bundle with --cacert (or [general] cacert), or --insecure to skip the check"
        )
    import httpx  # loaded already: `exc` came from it

    if isinstance(exc, httpx.ConnectError) and ("Connection refused" in text or "Errno 111" in text):
        return f"Cannot reach {where}: connection refused (is StackStorm running, is the port right?)"
    return f"Cannot reach {where}: {text}"


STATUS_ERRORS: dict[int, type[St2Error]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


class ResponseTooLarge(MalformedResponse):
    """The answer was larger than the configured limit; it was not read further."""
