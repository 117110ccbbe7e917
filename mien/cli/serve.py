"""``mien serve``: the HTTP API and web app; ``mien serve keys create|list|revoke``: its API keys."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import InputError


def _home_option(func):
    return click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Where the service keeps its keys and job files (default $MIEN_SERVE_HOME, "
                             "else $MIEN_HOME/serve).")(func)


def _keys(home: Path | None):
    from ..serve.config import serve_home
    from ..serve.keys import KeyStore

    return KeyStore(home or serve_home())


@click.group("serve", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback exposes faces to the network: put TLS in front.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--store", default=None, envvar="MIEN_GALLERY_URL",
              help="Gallery store URL (default: the embedded one under $MIEN_HOME).")
@click.option("--collection", default=None, envvar="MIEN_COLLECTION_URL",
              help="Photo collection store URL (default: the embedded one under $MIEN_HOME; see mien index).")
@click.option("--key-file", default=None, help="Gallery template key (default $MIEN_GALLERY_KEY / _FILE).")
@_home_option
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Threads running model calls (default: cores, at most 4).")
@click.option("--queue", type=click.IntRange(0, 10000), default=32, show_default=True,
              help="Requests that may wait for a worker; one more is answered 503 with Retry-After.")
@click.option("--rate", type=float, default=20.0, show_default=True, help="Requests per second per key (keys may carry their own).")
@click.option("--max-body-mb", type=float, default=25.0, show_default=True, help="Largest image upload.")
@click.option("--max-video-mb", type=float, default=200.0, show_default=True, help="Largest video upload.")
@click.option("--max-pixels", type=int, default=40_000_000, show_default=True, help="Largest decoded image.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds one request's model work may take.")
@click.option("--cors-origin", "cors", multiple=True, help="Allow browser calls from this origin (CORS is off by default).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, store: str | None, collection: str | None, key_file: str | None, home: Path | None,
          workers: int | None, queue: int, rate: float, max_body_mb: float, max_video_mb: float, max_pixels: int,
          timeout: float, cors: tuple[str, ...]) -> None:
    """Serve the HTTP API (/v1, OpenAPI at /docs) and the web app (/) on HOST:PORT.

    On the first start it makes an admin key and prints it once (only its hash is kept).
    """
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from ..serve import ServeConfig, create_app
    from ..serve.config import serve_home

    options = {"workers": workers} if workers else {}
    config = ServeConfig(host=host, port=port, store=store, collection=collection, gallery_key=key_file, home=home or serve_home(), queue=queue,
                         rate=rate, max_body_bytes=int(max_body_mb * 2**20), max_video_bytes=int(max_video_mb * 2**20),
                         max_pixels=max_pixels, timeout_s=timeout, cors_origins=cors, **options)
    keys = _keys(config.home)
    if not keys.has_admin():
        secret, record = keys.create("first admin", ["admin"], "default")
        click.echo(f"mien: first admin key: {secret}")
        click.echo(f"mien: (shown once; only its hash is kept in {config.home}; more keys: mien serve keys create)")
    keys.close()
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"mien: warning: binding {host}: the API is reachable from the network; use TLS in front of it", err=True)
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    original_startup = server.startup

    async def startup(sockets=None) -> None:  # print the URL once the socket is bound (port 0 picks one)
        await original_startup(sockets)
        bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
        click.echo(f"mien: serving http://{host}:{bound} (web app at /, API at /v1, OpenAPI at /docs)", err=False)

    server.startup = startup
    server.run()


@serve.group("keys")
def keys_group() -> None:
    """API keys: each has scopes (read, identify, enrol, admin) and one gallery (its tenant)."""


@keys_group.command("create")
@click.option("--name", required=True, help="Who or what uses the key.")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(["read", "identify", "enrol", "admin"]),
              help="May be given several times.")
@click.option("--gallery", default="default", show_default=True, help="The gallery (tenant) the key works in.")
@click.option("--rate", type=float, default=None, help="Requests per second for this key (default: the service's).")
@_home_option
@click.option("--json", "as_json", is_flag=True)
def keys_create(name: str, scopes: tuple[str, ...], gallery: str, rate: float | None, home: Path | None, as_json: bool) -> None:
    """Make a key; it is printed once and only its hash is kept."""
    store = _keys(home)
    secret, record = store.create(name, list(scopes), gallery, rate)
    store.close()
    if as_json:
        click.echo(json.dumps({**record.to_dict(), "secret": secret}, indent=2))
    else:
        click.echo(secret)
        click.echo(f"key {record.id} ({', '.join(record.scopes)}) for gallery {gallery!r}: shown once, keep it safe", err=True)


@keys_group.command("list")
@_home_option
@click.option("--json", "as_json", is_flag=True)
def keys_list(home: Path | None, as_json: bool) -> None:
    """Keys with their prefix, scopes, gallery and state (never the secret)."""
    store = _keys(home)
    rows = [k.to_dict() for k in store.list()]
    store.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        state = f"revoked {r['revoked']}" if r["revoked"] else f"last used {r['last_used'] or 'never'}"
        click.echo(f"{r['key']:<20} {r['name']:<24} {','.join(r['scopes']):<22} gallery={r['gallery']}  {state}")


@keys_group.command("revoke")
@click.argument("key_id")
@_home_option
def keys_revoke(key_id: str, home: Path | None) -> None:
    """Revoke KEY_ID (the 8 characters after mien_); it stops working at once."""
    if not key_id.strip():
        raise InputError("give the key's id")
    store = _keys(home)
    record = store.revoke(key_id)
    store.close()
    click.echo(f"revoked key {record.id} ({record.name})")


COMMANDS = [serve]
