"""Test support for the bot: a real tiny tang model, and Discord with only HTTP stubbed.

``train_tang_model`` trains a small LSTM on the Tang fixture (with the tang domain's
control tokens and metadata) and exports it with ``exporters.export_onnx``: a real model
that ``Studio.agenerate`` can write poems with.

``FakeDiscordSession`` stands in for the aiohttp ``ClientSession`` that discord.py's HTTP
client and webhook adapter use: everything above it (``Interaction``, ``InteractionResponse``,
``Webhook``, ``AsyncWebhookAdapter``, the views, the command tree) is discord.py's real
code. It records each request and answers as Discord would (interaction callbacks, follow-up
messages echoing their components, deletes). ``command_payload`` / ``component_payload``
build gateway ``INTERACTION_CREATE`` payloads as Discord sends them.

Also used by ``benchmarks/bot_load.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TANG_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tang" / "tangshi_sample.jsonl"
GUILD_ID = 100
CHANNEL_ID = 200
APPLICATION_ID = 300
BOT_USER_ID = 400
_snowflakes = itertools.count(10_000_000)


def snowflake() -> int:
    return next(_snowflakes)


# --- a real tang model ------------------------------------------------------------------

def train_tang_model(out_dir: Path, *, steps: int = 150, seed: int = 0, name: str = "tang") -> Path:
    """Train a tiny LSTM on the Tang fixture and export it to ``out_dir/<name>.onnx``."""
    from tinymodels import train_tiny_domain_checkpoint

    from exporters.export import export_onnx

    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt = train_tiny_domain_checkpoint(out_dir / f"{name}.ckpt", "tang", TANG_FIXTURE,
                                        steps=steps, seed=seed)
    return export_onnx(ckpt, out_dir / f"{name}.onnx")


# --- Discord's HTTP boundary --------------------------------------------------------------

@dataclass
class Call:
    """One HTTP request discord.py made."""

    method: str
    path: str
    json: dict[str, Any] | None
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.perf_counter)

    @property
    def kind(self) -> str:
        """defer / message (callback type 4) / followup / delete / edit / other."""
        if self.path.endswith("/callback"):
            t = (self.json or {}).get("type")
            return {5: "defer", 4: "message", 6: "defer_update", 7: "update"}.get(t, f"callback{t}")
        if self.method == "POST" and self.path.startswith("/webhooks/"):
            return "followup"
        if self.method == "DELETE":
            return "delete"
        if self.method == "PATCH":
            return "edit"
        return "other"

    @property
    def ephemeral(self) -> bool:
        data = (self.json or {}).get("data", self.json) or {}
        return bool(int(data.get("flags") or 0) & 64)

    @property
    def interaction_id(self) -> int | None:
        m = re.match(r"^/interactions/(\d+)/", self.path)
        return int(m.group(1)) if m else None

    @property
    def token(self) -> str | None:
        m = re.match(r"^/(?:interactions/\d+|webhooks/\d+)/([^/?]+)", self.path)
        return m.group(1) if m else None


class _Response:
    def __init__(self, status: int, body: Any):
        self.status = status
        self._text = "" if body is None else json.dumps(body)
        self.headers = {"content-type": "application/json"} if body is not None else {}

    async def text(self, encoding: str = "utf-8") -> str:
        return self._text

    async def __aenter__(self) -> _Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class FakeDiscordSession:
    """The aiohttp ClientSession boundary: records requests, answers like Discord.

    Args:
        latency_s: simulated network round trip per request.
    """

    closed = False

    def __init__(self, latency_s: float = 0.0):
        self.calls: list[Call] = []
        self.latency_s = latency_s
        self.messages: dict[int, dict[str, Any]] = {}

    def request(self, method: str, url: str, *, data: Any = None, headers: Any = None,
                params: Any = None, proxy: Any = None, proxy_auth: Any = None) -> Any:
        return _Pending(self, method, url, data)

    async def close(self) -> None:
        self.closed = True

    # -- recording --------------------------------------------------------------------

    async def _answer(self, method: str, url: str, data: Any) -> _Response:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        path = url.split("/api/v10", 1)[-1]
        body, files = _decode_body(data)
        call = Call(method, path, body, files)
        self.calls.append(call)
        if call.path.endswith("/callback"):
            return _Response(200, {"interaction": {"id": str(call.interaction_id), "type": 2}})
        if call.kind == "followup" or call.kind == "edit":
            msg = self._message(body or {}, files)
            return _Response(200, msg)
        if call.kind == "delete":
            return _Response(204, None)
        m = re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", call.path)
        if m and method == "PUT":  # bulk overwrite: Discord echoes the commands with ids
            return _Response(200, [{**cmd, "id": str(snowflake()), "application_id": m.group(1),
                                    "version": str(snowflake()),
                                    **({"guild_id": m.group(2)} if m.group(2) else {})}
                                   for cmd in (body or [])])
        return _Response(404, {"message": "Unknown", "code": 0})

    def _message(self, body: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        mid = snowflake()
        msg = {
            "id": str(mid), "channel_id": str(CHANNEL_ID), "type": 0,
            "content": body.get("content") or "", "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [{"id": str(snowflake()), "filename": name, "size": len(blob),
                             "url": f"https://cdn.invalid/{name}", "proxy_url": f"https://cdn.invalid/{name}"}
                            for name, blob in files.items()],
            "author": _user(BOT_USER_ID, "lstmgen", bot=True),
            "timestamp": "2024-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "pinned": False,
            "flags": int(body.get("flags") or 0),
        }
        self.messages[mid] = msg
        return msg

    # -- queries ----------------------------------------------------------------------

    def for_interaction(self, interaction_id: int, token: str) -> list[Call]:
        """The calls answering one interaction: its callback, then follow-ups by token."""
        return [c for c in self.calls
                if c.interaction_id == interaction_id or (c.interaction_id is None and c.token == token)]


class _Pending:
    def __init__(self, session: FakeDiscordSession, method: str, url: str, data: Any):
        self._args = (method, url, data)
        self._session = session
        self._response: _Response | None = None

    async def __aenter__(self) -> _Response:
        self._response = await self._session._answer(*self._args)
        return self._response

    async def __aexit__(self, *exc: object) -> None:
        return None


def _decode_body(data: Any) -> tuple[dict[str, Any] | None, dict[str, bytes]]:
    """JSON body, or aiohttp FormData (payload_json + files) -> (json, {filename: bytes})."""
    if data is None:
        return None, {}
    if isinstance(data, str):
        return json.loads(data), {}
    body: dict[str, Any] | None = None
    files: dict[str, bytes] = {}
    for options, _headers, value in data._fields:  # aiohttp.FormData internals
        if options.get("name") == "payload_json":
            body = json.loads(value)
        else:
            raw = value.read() if hasattr(value, "read") else value
            files[options.get("filename", options.get("name"))] = bytes(raw)
    return body, files


async def start_bot(config: Any = None, **kwargs: Any) -> tuple[Any, FakeDiscordSession]:
    """A real LstmBot after setup_hook, its HTTP session replaced by FakeDiscordSession."""
    import discord

    from lstm_bot.bot import LstmBot

    bot = LstmBot(config, **kwargs)
    await bot.__aenter__()  # discord.py's own async set-up (loop, state), no login
    session = FakeDiscordSession()
    bot.http._HTTPClient__session = session  # type: ignore[attr-defined]
    # what HTTPClient.static_login (the login we skip) sets for bot-authenticated requests
    bot.http.token = "test-token"
    bot.http._global_over = asyncio.Event()  # type: ignore[attr-defined]
    bot.http._global_over.set()  # type: ignore[attr-defined]
    bot._connection.application_id = APPLICATION_ID
    # what the gateway's READY would have set: the bot's own user
    bot._connection.user = discord.ClientUser(state=bot._connection, data={
        **_user(BOT_USER_ID, "lstmgen", bot=True), "verified": True, "mfa_enabled": False})
    await bot.setup_hook()
    return bot, session



# --- gateway payloads -----------------------------------------------------------------------

def _user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name,
            "avatar": None, "bot": bot}


def _base(kind: int, user_id: int, *, guild_id: int | None, admin: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(snowflake()), "application_id": str(APPLICATION_ID), "type": kind,
        "token": f"tok{snowflake()}", "version": 1, "attachment_size_limit": 8 * 1024 * 1024,
        "locale": "en-US", "channel_id": str(CHANNEL_ID),
        "channel": {"id": str(CHANNEL_ID), "type": 0, "name": "poetry", "position": 0,
                    "guild_id": str(GUILD_ID), "nsfw": False, "permission_overwrites": []},
        "app_permissions": str((1 << 53) - 1),
    }
    user = _user(user_id, f"user{user_id}")
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        payload["guild_locale"] = "en-US"
        payload["member"] = {"user": user, "roles": [], "joined_at": "2024-01-01T00:00:00+00:00",
                             "deaf": False, "mute": False, "flags": 0,
                             "permissions": str(8 if admin else 1 << 11)}
    else:
        payload["user"] = user
    return payload


def option_payload(name: str, value: Any) -> dict[str, Any]:
    kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else \
        10 if isinstance(value, float) else 3
    return {"type": kind, "name": name, "value": value}


def command_payload(name: str, *, user_id: int = 42, guild_id: int | None = GUILD_ID,
                    admin: bool = False, **options: Any) -> dict[str, Any]:
    """An application-command ``INTERACTION_CREATE`` payload for ``/name option:value ...``."""
    payload = _base(2, user_id, guild_id=guild_id, admin=admin)
    payload["data"] = {"id": str(snowflake()), "type": 1, "name": name,
                       "options": [option_payload(k, v) for k, v in options.items()]}
    return payload


def component_payload(message: dict[str, Any], custom_id: str, *, user_id: int = 42,
                      guild_id: int | None = GUILD_ID, values: list[str] | None = None
                      ) -> dict[str, Any]:
    """A component (button / select) ``INTERACTION_CREATE`` payload on ``message``."""
    payload = _base(3, user_id, guild_id=guild_id, admin=False)
    payload["message"] = message
    payload["data"] = {"custom_id": custom_id, "component_type": 2 if values is None else 3}
    if values is not None:
        payload["data"]["values"] = values
    return payload


def custom_ids(message: dict[str, Any]) -> list[str]:
    """Every custom id in a message's component rows."""
    out = []
    for row in message.get("components") or []:
        for comp in row.get("components") or []:
            if "custom_id" in comp:
                out.append(comp["custom_id"])
    return out


async def settle(timeout: float = 30.0) -> None:
    """Wait until discord.py's interaction tasks (tree invokers, view items) are done."""
    deadline = time.monotonic() + timeout
    while True:
        pending = [t for t in asyncio.all_tasks() if not t.done() and
                   (t.get_name().startswith("CommandTree-invoker")
                    or t.get_name().startswith("discord-ui-"))]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} interaction tasks still running")
        await asyncio.wait(pending, timeout=max(0.0, deadline - time.monotonic()))


async def invoke(bot: Any, session: FakeDiscordSession, payload: dict[str, Any]) -> list[Call]:
    """Deliver one INTERACTION_CREATE as the gateway would; the HTTP calls that answered it."""
    bot._connection.parse_interaction_create(payload)
    await settle()
    return session.for_interaction(int(payload["id"]), payload["token"])


def message_of(session: FakeDiscordSession, call: Call) -> dict[str, Any]:
    """The message Discord created for a follow-up call."""
    return next(m for m in session.messages.values()
                if m["components"] == ((call.json or {}).get("components") or [])
                and m["embeds"] == ((call.json or {}).get("embeds") or [])
                and m["content"] == ((call.json or {}).get("content") or ""))
