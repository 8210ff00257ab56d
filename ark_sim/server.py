"""The simulator's HTTP server (aiohttp) on loopback: every media, admin endpoints, test harness.

Routes: `/{media}/...` for each media of the registry (its real paths below its base URL) and
`/admin/...` (loopback, no auth). Everything else is a plain 404.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from aiohttp import web

from ark_sim.common import Incoming, Outgoing
from ark_sim.config import SimConfig
from ark_sim.faults import FaultKind, error_page
from ark_sim.media import lookup, registry
from ark_sim.spec import MediaSpec
from ark_sim.state import SimState
from ark_sim.tamper import Tampering, TamperRule
from ark_sim.world import World

logger = logging.getLogger(__name__)

_STATE = web.AppKey("state", SimState)
_TAMPER = web.AppKey("tamper", Tampering)
# A held ("timeout") request must not keep a stopping server waiting.
_SHUTDOWN_TIMEOUT_S = 1.0


def build_app(
    config: SimConfig, state: SimState | None = None, tampering: Tampering | None = None
) -> web.Application:
    """The aiohttp application serving every media and the admin endpoints."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[_STATE] = state or SimState(config)
    app[_TAMPER] = tampering or Tampering()
    app.router.add_get("/admin/counters", _admin_counters)
    app.router.add_get("/admin/config", _admin_config)
    app.router.add_post("/admin/reset", _admin_reset)
    app.router.add_post("/admin/tokens/expire", _admin_expire)
    app.router.add_post("/admin/faults", _admin_faults)
    app.router.add_post("/admin/quotas", _admin_quotas)
    app.router.add_post("/admin/async_reports", _admin_async_reports)
    app.router.add_post("/admin/clock", _admin_clock)
    app.router.add_post("/admin/tamper", _admin_tamper)
    for spec in registry():
        app.router.add_route("*", f"/{spec.name}/{{tail:.*}}", _media_handler(spec))
    return app


def _media_handler(spec: MediaSpec) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    media, api = spec.name, spec.api

    async def handle(request: web.Request) -> web.StreamResponse:
        state = request.app[_STATE]
        delay = state.faults.latency_s(media)
        if delay > 0:
            await asyncio.sleep(delay)
        fault = state.faults.decide(media)
        if fault is not None and fault.kind.transport:
            endpoint = _endpoint_name(api, request)
            state.counters.record(media, endpoint, _transport_outcome(fault))
            if fault.kind is FaultKind.HTTP_5XX:
                return web.Response(
                    status=fault.status, body=error_page(fault.status), content_type="text/html"
                )
            if fault.kind is FaultKind.TIMEOUT:
                await asyncio.sleep(fault.hold_s)
                _drop(request, reset=False)
            else:
                _drop(request, reset=True)
            # The transport is gone: aiohttp's write of this response fails quietly.
            return web.Response(status=200)
        incoming = Incoming(
            method=request.method,
            path="/" + request.match_info["tail"],
            query={k: request.query.getone(k) for k in request.query},
            headers=request.headers,
            body=await request.read(),
        )
        endpoint, out = api.handle(state, incoming, fault)
        out = request.app[_TAMPER].apply(media, endpoint, incoming.query, out, api.coded)
        state.counters.record(media, endpoint, out.outcome, throttled=out.throttled)
        return _response(out)

    return handle


def _endpoint_name(api: Any, request: web.Request) -> str:
    endpoint = api.endpoints.get(("/" + request.match_info["tail"]).rstrip("/"))
    return endpoint.name if endpoint else "unknown"


def _transport_outcome(fault: Any) -> str:
    return f"http_{fault.status}" if fault.kind is FaultKind.HTTP_5XX else fault.kind.value


def _drop(request: web.Request, *, reset: bool) -> None:
    """Close the connection without a response; `reset` sends a TCP RST instead of a FIN."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if reset and sock is not None:
        # SO_LINGER with a zero timeout makes close() abort the connection with an RST.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


def _response(out: Outgoing) -> web.Response:
    response = web.Response(status=out.status, body=out.body, headers=out.headers)
    response.content_type = out.content_type
    response.charset = "utf-8"
    return response


# -- admin ------------------------------------------------------------------------------------------


async def _admin_counters(request: web.Request) -> web.Response:
    return web.json_response(request.app[_STATE].counters.snapshot())


async def _admin_config(request: web.Request) -> web.Response:
    state = request.app[_STATE]
    body = state.config.model_dump(mode="json")
    body["live"] = {
        "today": state.clock.today().isoformat(),
        "faults": {m.name: state.faults.settings(m.name) for m in registry()},
        "quotas": {
            m.name: {e: state.quotas.limits(m.name, e).model_dump() for e in m.endpoints} for m in registry()
        },
        "tenants": state.world.loaded_tenants(),
    }
    return web.json_response(body)


async def _admin_reset(request: web.Request) -> web.Response:
    body = await _json(request, required=False)
    request.app[_STATE].reset(tokens=bool(body.get("tokens", False)))
    return web.json_response({"ok": True})


async def _admin_expire(request: web.Request) -> web.Response:
    body = await _json(request)
    try:
        media = lookup(body["media"]).name
        tenant = str(body["tenant"])
        agent_id = None if body.get("agent_id") in (None, "") else int(body["agent_id"])
        count = request.app[_STATE].expire_tokens(media, tenant, agent_id, refresh=bool(body.get("refresh")))
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_request(f"expected {{media, tenant, agent_id?, refresh?}}: {exc}") from exc
    return web.json_response({"expired": count})


async def _admin_async_reports(request: web.Request) -> web.Response:
    body = await _json(request)
    try:
        media = lookup(body.pop("media")).name
        limits = request.app[_STATE].tasks.set_limits(media, **body)
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_request(
            f"expected {{media, pending_s?, processing_s?, expire_s?, cooldown_s?, ...}}: {exc}"
        ) from exc
    return web.json_response(limits.model_dump())


async def _admin_faults(request: web.Request) -> web.Response:
    body = await _json(request)
    try:
        media = lookup(body.pop("media")).name
        settings = request.app[_STATE].faults.update(media, **body)
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_request(str(exc)) from exc
    return web.json_response(settings)


async def _admin_quotas(request: web.Request) -> web.Response:
    body = await _json(request)
    try:
        spec = lookup(body.pop("media"))
        media, endpoint = spec.name, body.pop("endpoint", None)
        if endpoint is not None and endpoint not in spec.endpoints:
            raise ValueError(f"unknown {media} endpoint {endpoint!r}; known: {', '.join(spec.endpoints)}")
        limits = request.app[_STATE].quotas.update(media, endpoint, **body)
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_request(str(exc)) from exc
    return web.json_response(limits.model_dump())


async def _admin_clock(request: web.Request) -> web.Response:
    body = await _json(request)
    try:
        today = body.get("today")
        request.app[_STATE].clock.pin(date.fromisoformat(today) if today else None)
    except (ValueError, TypeError) as exc:
        raise _bad_request(f'expected {{"today": "YYYY-MM-DD" or null}}: {exc}') from exc
    return web.json_response({"today": request.app[_STATE].clock.today().isoformat()})


async def _admin_tamper(request: web.Request) -> web.Response:
    """`{media, endpoint, match?, set?, drop?, code?}` adds a rule; `{media?, clear: true}` clears."""
    body = await _json(request)
    try:
        media = lookup(body["media"]).name if body.get("media") else None
        if body.get("clear"):
            request.app[_TAMPER].clear(media)
            return web.json_response({"cleared": True})
        if media is None or body.get("endpoint") not in lookup(media).endpoints:
            raise ValueError(f"expected a media and one of its endpoints, got {body!r}")
        rule = TamperRule(
            body["endpoint"],
            match={str(k): str(v) for k, v in (body.get("match") or {}).items()},
            set_fields=dict(body.get("set") or {}),
            drop_fields=tuple(body.get("drop") or ()),
            code=None if body.get("code") is None else int(body["code"]),
        )
        request.app[_TAMPER].add(media, rule)
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_request(str(exc)) from exc
    return web.json_response({"rules": "added"})


async def _json(request: web.Request, *, required: bool = True) -> dict:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise _bad_request("expected a JSON object body")
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _bad_request(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _bad_request("expected a JSON object body")
    return body


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


# -- running ----------------------------------------------------------------------------------------


def serve(config: SimConfig) -> None:
    """Serve on config.host:config.port until interrupted (the CLI's `ark-sim serve`)."""
    web.run_app(
        build_app(config),
        host=config.host,
        port=config.port,
        access_log=None,
        print=None,
        shutdown_timeout=_SHUTDOWN_TIMEOUT_S,
    )


class RunningSimulator:
    """A simulator serving on 127.0.0.1 from a background thread with its own event loop.

    Not a process, on purpose: tests read and change its `World` and `SimState` directly (expire
    an agent's tokens, tighten a quota, pin the clock, tamper with answers, compare against the
    world's accounts) and share its caches, with no admin round trip. Anything that wants the
    simulator as a separate program (the demo, the benchmarks) uses `process.SimulatorProcess`.
    """

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.state = SimState(config)
        self.tampering = Tampering()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def world(self) -> World:
        return self.state.world

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def url(self, media: str) -> str:
        """A media's base URL, e.g. http://127.0.0.1:PORT/gdt."""
        return f"{self.base_url}/{lookup(media).name}"

    def counters(self) -> dict:
        return self.state.counters.snapshot()

    def reset(self, *, tokens: bool = False) -> None:
        self.state.reset(tokens=tokens)

    def expire_tokens(
        self, media: str, tenant: str, agent_id: int | None = None, *, refresh: bool = False
    ) -> int:
        return self.state.expire_tokens(lookup(media).name, tenant, agent_id, refresh=refresh)

    def set_faults(self, media: str, **changes: float) -> dict:
        return self.state.faults.update(lookup(media).name, **changes)

    def set_async_reports(self, media: str, **changes: float) -> dict:
        """Change the media's async report knobs (`[media.<m>.async_reports]`) while it runs."""
        return self.state.tasks.set_limits(lookup(media).name, **changes).model_dump()

    def set_quotas(self, media: str, endpoint: str | None = None, **changes: float) -> None:
        self.state.quotas.update(lookup(media).name, endpoint, **changes)

    def set_today(self, day: date | None) -> None:
        self.state.clock.pin(day)

    def tamper(self, media: str, rule: TamperRule) -> None:
        """Alter every matching answer of `media` until `clear_tampering` (see `ark_sim/tamper.py`)."""
        self.tampering.add(lookup(media).name, rule)

    def clear_tampering(self, media: str | None = None) -> None:
        self.tampering.clear(lookup(media).name if media else None)

    def start(self) -> RunningSimulator:
        self._thread = threading.Thread(target=self._run, name="ark-sim", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise RuntimeError(f"the simulator did not start: {self._error}") from self._error
        if not self._ready.is_set():
            raise RuntimeError("the simulator did not start within 30 s")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:  # reported to start() in the caller's thread
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            # Handlers still holding a request (injected timeouts) are cancelled, not destroyed.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(_drain(pending))
            loop.close()

    async def _startup(self) -> None:
        self._runner = web.AppRunner(
            build_app(self.config, self.state, self.tampering),
            access_log=None,
            shutdown_timeout=_SHUTDOWN_TIMEOUT_S,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # Requests still held by a "timeout" fault outlive the runner's grace period: end them here
        # so the loop closes with no task pending.
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _drain(tasks: set[asyncio.Task]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


@contextmanager
def running_simulator(
    config: SimConfig | None = None, *, port: int = 0, **overrides: Any
) -> Iterator[RunningSimulator]:
    """A simulator on 127.0.0.1 (an ephemeral port by default) in this process, for the `with` block
    (in a thread, so the caller can reach its world and state: see `RunningSimulator`).

    Args:
        config: the config; default `SimConfig.load(overrides=overrides)`.
        port: 0 = any free port (read it from `sim.base_url`).
    """
    config = config or SimConfig.load(overrides=overrides or None)
    sim = RunningSimulator(config.model_copy(update={"port": port})).start()
    try:
        yield sim
    finally:
        sim.stop()
