"""gRPC without sockets or threads: a client channel that calls a servicer in this process,
in the caller's thread.

The virtual backend's nodes live in the service's process and take turns in one virtual
clock (:mod:`nodes.io.world`). Their agents' servicers are the same as in a container,
registered on an :class:`InProcessServer` by the generated ``add_*_to_server`` functions;
an :class:`InProcessChannel` hands the generated stubs callables that serialize the
request, run the handler at once in the calling thread, and deserialize its answer. So a
lab's fault timeline, which fires inside the world while a wait holds its lock, can call
a node's agent without waiting for another thread (which would deadlock), and every call
is in the order the caller made it.

Errors come back as :class:`InProcessRpcError`, a ``grpc.RpcError`` and ``grpc.Call``
with ``code()`` and ``details()`` as a network call's would be: a handler's
``context.abort`` keeps its status, any other exception is UNKNOWN.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

import grpc

Serializer = Callable[[Any], bytes] | None
Deserializer = Callable[[bytes], Any] | None


class InProcessRpcError(grpc.RpcError, grpc.Call):
    """A failed in-process call (what a network call's RpcError says)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def initial_metadata(self) -> tuple[()]:
        return ()

    def trailing_metadata(self) -> tuple[()]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float:
        return 0.0  # the call has ended

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False


class _Aborted(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class _Context:
    """What a handler sees of its call (a ``grpc.ServicerContext``)."""

    def __init__(self, timeout: float | None, metadata: Sequence[tuple[str, str]] | None) -> None:
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._metadata = tuple(metadata or ())
        self._callbacks: list[Callable[[], None]] = []
        self._cancelled = False
        self._done = False
        self._code: grpc.StatusCode | None = None
        self._details = ""

    # ---- the handler's view ---------------------------------------------------------
    def is_active(self) -> bool:
        if self._cancelled or self._done:
            return False
        return self._deadline is None or time.monotonic() < self._deadline

    def time_remaining(self) -> float | None:
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def cancel(self) -> None:
        self._cancelled = True

    def add_callback(self, callback: Callable[[], None]) -> bool:
        if self._done:
            return False
        self._callbacks.append(callback)
        return True

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def peer(self) -> str:
        return "inprocess"

    def peer_identities(self) -> None:
        return None

    def peer_identity_key(self) -> None:
        return None

    def auth_context(self) -> dict[str, Any]:
        return {}

    def set_compression(self, compression: Any) -> None:
        pass

    def send_initial_metadata(self, initial_metadata: Any) -> None:
        pass

    def set_trailing_metadata(self, trailing_metadata: Any) -> None:
        pass

    def disable_next_message_compression(self) -> None:
        pass

    def abort(self, code: grpc.StatusCode, details: str) -> NoReturn:
        raise _Aborted(code, details)

    def abort_with_status(self, status: Any) -> NoReturn:
        raise _Aborted(status.code, status.details)

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code

    def set_details(self, details: str) -> None:
        self._details = details

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def details(self) -> str:
        return self._details

    # ---- the channel's side -----------------------------------------------------------
    def finish(self) -> None:
        """The call ended: run the callbacks (once)."""
        if self._done:
            return
        self._done = True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def error(self) -> InProcessRpcError | None:
        """The status a handler set without raising (set_code), as an error."""
        if self._code is None or self._code == grpc.StatusCode.OK:
            return None
        return InProcessRpcError(self._code, self._details)

    def expired(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline


def _failure(exc: BaseException) -> InProcessRpcError:
    if isinstance(exc, _Aborted):
        return InProcessRpcError(exc.code, exc.details)
    if isinstance(exc, InProcessRpcError):
        return exc
    return InProcessRpcError(grpc.StatusCode.UNKNOWN, f"{type(exc).__name__}: {exc}")


class InProcessServer:
    """Where servicers register (the ``server`` of the generated ``add_*_to_server``)."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._handlers: dict[str, Any] = {}  # "/pkg.Service/Method" -> RpcMethodHandler
        self._lock = threading.Lock()
        self.stopped = False

    def stop(self) -> None:
        """Calls from now on fail with UNAVAILABLE (a killed node's agent)."""
        self.stopped = True

    def add_generic_rpc_handlers(self, handlers: Sequence[Any]) -> None:
        """The generated code registers the same handlers both ways; the registered ones
        (below) are what calls use, so this needs to keep nothing."""

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        with self._lock:
            for method, handler in handlers.items():
                self._handlers[f"/{service}/{method}"] = handler

    def handler(self, method: str) -> Any:
        if self.stopped:
            raise InProcessRpcError(
                grpc.StatusCode.UNAVAILABLE, f"{self.name or 'the server'} is not running"
            )
        with self._lock:
            found = self._handlers.get(method)
        if found is None:
            raise InProcessRpcError(grpc.StatusCode.UNIMPLEMENTED, f"no method {method}")
        return found

    def channel(self) -> InProcessChannel:
        return InProcessChannel(self)


class _Method:
    """A method of a stub: where its calls go and how its messages cross as bytes."""

    def __init__(
        self, server: InProcessServer, method: str, serialize: Serializer, deserialize: Deserializer
    ) -> None:
        self._server, self._method = server, method
        self._serialize, self._deserialize = serialize, deserialize


class _UnaryUnary(_Method):
    def __call__(
        self,
        request: Any,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] | None = None,
        credentials: Any = None,
        wait_for_ready: bool | None = None,
        compression: Any = None,
    ) -> Any:
        handler = self._server.handler(self._method)
        context = _Context(timeout, metadata)
        try:
            message = _convert(request, self._serialize, handler.request_deserializer)
            response = handler.unary_unary(message, context)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise
            raise _failure(exc) from None
        finally:
            context.finish()
        failed = context.error()
        if failed is not None:
            raise failed
        if context.expired():
            raise InProcessRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
        return _convert(response, handler.response_serializer, self._deserialize)

    def with_call(self, request: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        return self(request, timeout, **kwargs), _Done()

    def future(self, request: Any, timeout: float | None = None, **kwargs: Any) -> _Future:
        """Runs the call now (in this thread) and returns it done."""
        try:
            return _Future(self(request, timeout, **kwargs), None)
        except InProcessRpcError as exc:
            return _Future(None, exc)


class _Done:
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.OK


class _Future:
    """A finished call (``grpc.Future`` shape)."""

    def __init__(self, value: Any, error: InProcessRpcError | None) -> None:
        self._value, self._error = value, error

    def result(self, timeout: float | None = None) -> Any:
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self, timeout: float | None = None) -> InProcessRpcError | None:
        return self._error

    def done(self) -> bool:
        return True

    def cancel(self) -> bool:
        return False

    def cancelled(self) -> bool:
        return False

    def running(self) -> bool:
        return False

    def add_done_callback(self, fn: Callable[[Any], None]) -> None:
        fn(self)


class _Stream:
    """A server-streaming call: the handler's generator runs as the caller iterates."""

    def __init__(self, handler: Any, request: Any, context: _Context, deserialize: Deserializer):
        self._context = context
        self._deserialize = deserialize
        self._serialize = handler.response_serializer
        self._items: Iterator[Any] = handler.unary_stream(request, context)
        self._code = grpc.StatusCode.OK
        self._lock = threading.Lock()

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> Any:
        if self._context._cancelled:
            self._end()
            raise InProcessRpcError(grpc.StatusCode.CANCELLED, "Locally cancelled by application!")
        try:
            item = next(self._items)
        except StopIteration:
            self._end()
            failed = self._context.error()
            if failed is not None:
                raise failed from None
            raise
        except Exception as exc:
            self._end()
            if self._context._cancelled:
                raise InProcessRpcError(grpc.StatusCode.CANCELLED, "cancelled") from None
            raise _failure(exc) from None
        return _convert(item, self._serialize, self._deserialize)

    def cancel(self) -> bool:
        """End the stream (from any thread): the handler sees its context inactive and
        the next read raises CANCELLED."""
        self._context.cancel()
        return True

    def _end(self) -> None:
        with self._lock:
            close = getattr(self._items, "close", None)
            if close is not None:
                with contextlib.suppress(ValueError):  # it runs in another thread right now
                    close()
            self._context.finish()

    def is_active(self) -> bool:
        return self._context.is_active()

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return ""


class _UnaryStream(_Method):
    def __call__(
        self,
        request: Any,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> _Stream:
        handler = self._server.handler(self._method)
        message = _convert(request, self._serialize, handler.request_deserializer)
        return _Stream(handler, message, _Context(timeout, metadata), self._deserialize)


def _convert(message: Any, serialize: Serializer, deserialize: Deserializer) -> Any:
    """A message as the other side gets it: through its bytes, as on the network (the
    two sides never share a mutable message)."""
    data = serialize(message) if serialize is not None else message
    return deserialize(data) if deserialize is not None else data


class InProcessChannel:
    """A channel to an :class:`InProcessServer` (unary and server-streaming methods): a
    ``grpc.Channel`` to the generated stubs."""

    def __init__(self, server: InProcessServer) -> None:
        self._server = server

    def unary_unary(
        self,
        method: str,
        request_serializer: Serializer = None,
        response_deserializer: Deserializer = None,
        _registered_method: bool = False,
    ) -> _UnaryUnary:
        return _UnaryUnary(self._server, method, request_serializer, response_deserializer)

    def unary_stream(
        self,
        method: str,
        request_serializer: Serializer = None,
        response_deserializer: Deserializer = None,
        _registered_method: bool = False,
    ) -> _UnaryStream:
        return _UnaryStream(self._server, method, request_serializer, response_deserializer)

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _Unsupported(method)

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _Unsupported(method)

    def subscribe(self, callback: Callable[[Any], None], try_to_connect: bool = False) -> None:
        callback(grpc.ChannelConnectivity.READY)

    def unsubscribe(self, callback: Callable[[Any], None]) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> InProcessChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Unsupported:
    def __init__(self, method: str) -> None:
        self._method = method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise InProcessRpcError(
            grpc.StatusCode.UNIMPLEMENTED, f"{self._method}: client streams are not in-process"
        )
