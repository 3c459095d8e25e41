"""A stand-in Kubernetes API server for the controller's actuator tests.

This is NOT a Kubernetes API server. No real one can be had on these machines until the
real-Terraform issue (13) builds kube-apiserver from its Go modules; until then, and for fast
tests after, this small `http.server` on 127.0.0.1 speaks the part of the API the actuator
uses, with the real paths, verbs, status codes and `Status` bodies:

- ConfigMaps at `/api/v1/namespaces/{ns}/configmaps[/{name}]` and Leases at
  `/apis/coordination.k8s.io/v1/namespaces/{ns}/leases[/{name}]`.
- GET (200, or 404 NotFound), POST to the collection (201 Created, 409 AlreadyExists),
  PUT (200; 409 Conflict when `metadata.resourceVersion` is set and stale; unconditional
  without it, as the real server allows for these kinds), PATCH with
  `application/merge-patch+json` or `application/strategic-merge-patch+json` (the two agree
  on these kinds' flat maps; a `metadata.resourceVersion` in the patch is a precondition, as in
  the real server). JSON Patch and server-side apply are not spoken: 415.
- Every write bumps one server-wide `resourceVersion` counter (the real one is etcd's
  revision: also opaque, also server-wide). POST with a `resourceVersion` is refused (400).
- ConfigMap `data` must map strings to strings (422 Invalid); Lease `acquireTime` and
  `renewTime` are normalized to RFC 3339 with microseconds and `Z`, as the real server
  returns MicroTime.
- Bearer tokens: a request without one of the accepted tokens gets 401 Unauthorized.

What it does not model: RBAC, admission, watches, field managers, generateName, label
selectors, lists. Test-only knobs: `partition(token)` answers that client's requests with 503
(a client cut off from the API server) until `heal(token)`; `counts` tallies requests and
error reasons (e.g. `counts["Conflict"]`, the 409s sent).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PATH = re.compile(
    r"^/(?:api/v1|apis/coordination\.k8s\.io/v1)/namespaces/(?P<ns>[a-z0-9-]+)/"
    r"(?P<kind>configmaps|leases)(?:/(?P<name>[a-z0-9.-]+))?$"
)
_API_VERSIONS = {"configmaps": "v1", "leases": "coordination.k8s.io/v1"}
_KINDS = {"configmaps": "ConfigMap", "leases": "Lease"}
_MERGE_PATCHES = ("application/merge-patch+json", "application/strategic-merge-patch+json")
_MICRO_TIMES = ("acquireTime", "renewTime")


class ApiError(Exception):
    """An error answer: HTTP status, the `Status` reason and message."""

    def __init__(self, code: HTTPStatus, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": int(self.code),
        }


def _not_found(kind: str, name: str) -> ApiError:
    return ApiError(HTTPStatus.NOT_FOUND, "NotFound", f'{kind} "{name}" not found')


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(merged.get(key), value)
    return merged


class FakeApiServer:
    """The stand-in's state and its HTTP server on 127.0.0.1 (see the module docstring)."""

    def __init__(self, tokens: set[str]) -> None:
        self.tokens = set(tokens)
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.counts: Counter[str] = Counter()
        self._partitioned: set[str] = set()
        self._revision = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._closed = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def partition(self, token: str) -> None:
        """From now on, answer requests carrying `token` with 503 (the client is cut off)."""
        with self._lock:
            self._partitioned.add(token)

    def heal(self, token: str) -> None:
        """Serve `token` again after `partition`."""
        with self._lock:
            self._partitioned.discard(token)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """A copy of a stored object, for tests to look at."""
        with self._lock:
            stored = self.objects.get((kind, namespace, name))
            return None if stored is None else json.loads(json.dumps(stored))

    def handle(
        self, method: str, path: str, token: str | None, content_type: str, body: Any
    ) -> tuple[HTTPStatus, dict[str, Any]]:
        """Answer one request: (status, JSON body). Raises ApiError for error answers."""
        if token not in self.tokens:
            raise ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized", "Unauthorized")
        match = _PATH.match(path)
        if match is None:
            raise ApiError(
                HTTPStatus.NOT_FOUND, "NotFound", "the server could not find the requested resource"
            )
        namespace, kind, name = match["ns"], match["kind"], match["name"]
        with self._lock:
            if token in self._partitioned:
                raise ApiError(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                )
            self.counts[f"{method} {kind}"] += 1
            try:
                return self._dispatch(
                    method,
                    kind=kind,
                    namespace=namespace,
                    name=name,
                    content_type=content_type,
                    body=body,
                )
            except ApiError as error:
                self.counts[error.reason] += 1
                raise

    def _dispatch(
        self,
        method: str,
        *,
        kind: str,
        namespace: str,
        name: str | None,
        content_type: str,
        body: Any,
    ) -> tuple[HTTPStatus, dict[str, Any]]:
        if name is None:
            if method != "POST":
                raise ApiError(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    f"{method} on a collection is not served by this stand-in",
                )
            return HTTPStatus.CREATED, self._create(kind, namespace, body)
        key = (kind, namespace, name)
        current = self.objects.get(key)
        if method == "GET":
            if current is None:
                raise _not_found(kind, name)
            return HTTPStatus.OK, current
        if method not in ("PUT", "PATCH"):
            raise ApiError(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                f"{method} is not served by this stand-in",
            )
        if current is None:
            raise _not_found(kind, name)
        if method == "PATCH":
            if content_type not in _MERGE_PATCHES:
                raise ApiError(
                    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    f"the body of the request was in an unknown format: "
                    f"{content_type or 'none'}; accepted media types include: "
                    f"{', '.join(_MERGE_PATCHES)}",
                )
            body = _merge(current, body)
        self._check_precondition(kind, name, current, body)
        if body.get("metadata", {}).get("name", name) != name:
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                "BadRequest",
                "the name of the object does not match the name on the URL",
            )
        return HTTPStatus.OK, self._store(kind, namespace, name, body, current)

    def _create(self, kind: str, namespace: str, body: Any) -> dict[str, Any]:
        metadata = body.get("metadata") if isinstance(body, dict) else None
        if not isinstance(metadata, dict) or not metadata.get("name"):
            raise ApiError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "Invalid",
                f"{_KINDS[kind]} is invalid: metadata.name: Required value: name "
                "or generateName is required",
            )
        if metadata.get("resourceVersion"):
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                "BadRequest",
                "resourceVersion should not be set on objects to be created",
            )
        name = metadata["name"]
        if (kind, namespace, name) in self.objects:
            raise ApiError(HTTPStatus.CONFLICT, "AlreadyExists", f'{kind} "{name}" already exists')
        return self._store(kind, namespace, name, body, None)

    def _check_precondition(
        self, kind: str, name: str, current: dict[str, Any], body: dict[str, Any]
    ) -> None:
        wanted = body.get("metadata", {}).get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise ApiError(
                HTTPStatus.CONFLICT,
                "Conflict",
                f'Operation cannot be fulfilled on {kind} "{name}": the object has '
                "been modified; please apply your changes to the latest version and "
                "try again",
            )

    def _store(
        self,
        kind: str,
        namespace: str,
        name: str,
        body: dict[str, Any],
        current: dict[str, Any] | None,
    ) -> dict[str, Any]:
        stored = json.loads(json.dumps(body))
        self._validate(kind, name, stored)
        self._revision += 1
        metadata = stored.setdefault("metadata", {})
        metadata.update(name=name, namespace=namespace, resourceVersion=str(self._revision))
        if current is None:
            metadata["uid"] = str(uuid.uuid4())
            metadata["creationTimestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            metadata["uid"] = current["metadata"]["uid"]
            metadata["creationTimestamp"] = current["metadata"]["creationTimestamp"]
        stored["kind"] = _KINDS[kind]
        stored["apiVersion"] = _API_VERSIONS[kind]
        self.objects[(kind, namespace, name)] = stored
        return stored

    def _validate(self, kind: str, name: str, stored: dict[str, Any]) -> None:
        def invalid(field: str, value: Any, why: str) -> ApiError:
            return ApiError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "Invalid",
                f'{_KINDS[kind]} "{name}" is invalid: {field}: Invalid value: '
                f"{json.dumps(value)}: {why}",
            )

        if kind == "configmaps":
            data = stored.get("data", {})
            if not isinstance(data, dict) or not all(
                isinstance(value, str) for value in data.values()
            ):
                raise invalid("data", data, "must map keys to strings")
            return
        spec = stored.get("spec", {})
        duration = spec.get("leaseDurationSeconds")
        if duration is not None and (not isinstance(duration, int) or duration <= 0):
            raise invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
        for field in _MICRO_TIMES:
            if spec.get(field) is not None:
                try:
                    moment = datetime.fromisoformat(spec[field])
                except (TypeError, ValueError):
                    raise invalid(f"spec.{field}", spec[field], "not an RFC 3339 time") from None
                spec[field] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _handler(api: FakeApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            authorization = self.headers.get("Authorization", "")
            token = authorization.removeprefix("Bearer ") if authorization else None
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            path = self.path.split("?")[0]
            try:
                body = json.loads(raw) if raw else None
                status, document = api.handle(self.command, path, token, content_type, body)
            except ApiError as error:
                status, document = error.code, error.body()
            except ValueError as error:
                status = HTTPStatus.BAD_REQUEST
                document = ApiError(status, "BadRequest", f"invalid JSON: {error}").body()
            payload = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: pytest shows failures, not every request."""

    for verb in ("GET", "POST", "PUT", "PATCH", "DELETE"):  # http.server's `do_<VERB>` names
        setattr(Handler, f"do_{verb}", Handler._answer)
    return Handler


@contextmanager
def running(tokens: set[str]) -> Iterator[FakeApiServer]:
    """A started stand-in accepting `tokens`, closed on exit."""
    api = FakeApiServer(tokens)
    api.start()
    try:
        yield api
    finally:
        api.close()
