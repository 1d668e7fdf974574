#!/usr/bin/env node
// The demo mail host's OAuth 2.0 authorization server, on loopback (scripts/demo-mailhost.sh
// starts it). Fetch mode's `oauth.tokenUrl` gets client-credentials tokens here (RFC 6749
// §4.4), and Dovecot's oauth2 passdb asks here whether a token presented with XOAUTH2 or
// OAUTHBEARER is active and whose it is (token introspection, RFC 7662).
//
//   node scripts/demo-oauth-server.mjs --listen 127.0.0.1:8480 --clients FILE --pid-file FILE
//       [--lifetime SECONDS]
//
//   POST /token       grant_type=client_credentials, client_id, client_secret (form or Basic)
//   POST /introspect  token=...  (Basic auth of a resource server: clients with "introspect")
//   GET  /introspect?token=...   the same
//   POST /revoke      token=...  (RFC 7009; the client that got it, or a resource server)
//
// FILE is JSON: {"<client_id>": {"secret": "...", "username": "<mailbox login>"}} for mailbox
// clients (optionally "lifetime": seconds, instead of --lifetime), {"<client_id>": {"secret":
// "...", "introspect": true}} for resource servers.
// Tokens live in memory: a restart revokes them all. Neither tokens nor secrets are logged.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const MAX_BODY_BYTES = 8192;

const { values } = parseArgs({
  options: {
    listen: { type: "string", default: "127.0.0.1:8480" },
    clients: { type: "string" },
    "pid-file": { type: "string" },
    lifetime: { type: "string", default: "3600" },
  },
});
if (values.clients === undefined) fail("--clients FILE is required");
const [host, portText] = splitHostPort(values.listen);
const lifetimeS = Number(values.lifetime);
if (!Number.isInteger(lifetimeS) || lifetimeS < 1) fail("--lifetime must be a whole number of seconds");
const clients = JSON.parse(readFileSync(values.clients, "utf8"));

/** token -> { clientId, username, expMs } */
const tokens = new Map();

function fail(message) {
  process.stderr.write(`demo-oauth-server: ${message}\n`);
  process.exit(2);
}

function splitHostPort(text) {
  const at = text.lastIndexOf(":");
  if (at < 1) fail(`--listen wants HOST:PORT, not "${text}"`);
  return [text.slice(0, at).replace(/^\[|\]$/g, ""), Number(text.slice(at + 1))];
}

function log(message) {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

function sameSecret(given, expected) {
  const a = Buffer.from(String(given));
  const b = Buffer.from(String(expected));
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The client named by Basic auth or by client_id/client_secret in the form; undefined if none matches. */
function authenticatedClient(request, form) {
  let id = form.get("client_id");
  let secret = form.get("client_secret");
  const header = request.headers.authorization ?? "";
  if (header.startsWith("Basic ")) {
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    // RFC 6749 §2.3.1: both parts are form-encoded inside Basic.
    id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
    secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
  }
  const client = id === null || id === undefined ? undefined : clients[id];
  if (client === undefined || secret === null || !sameSecret(secret, client.secret)) return undefined;
  return { id, ...client };
}

function send(response, status, body, extraHeaders = {}) {
  response.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    ...extraHeaders,
  });
  response.end(JSON.stringify(body));
}

function activeToken(token) {
  const held = token ? tokens.get(token) : undefined;
  if (held === undefined) return undefined;
  if (Date.now() >= held.expMs) {
    tokens.delete(token);
    return undefined;
  }
  return held;
}

function issue(response, client, form) {
  if (form.get("grant_type") !== "client_credentials") {
    send(response, 400, { error: "unsupported_grant_type", error_description: "only client_credentials" });
    return;
  }
  if (client.username === undefined) {
    send(response, 400, { error: "unauthorized_client", error_description: "this client has no mailbox" });
    return;
  }
  const token = randomBytes(32).toString("base64url");
  const lifetime = client.lifetime ?? lifetimeS;
  tokens.set(token, { clientId: client.id, username: client.username, expMs: Date.now() + lifetime * 1000 });
  log(`token issued to client ${client.id} for ${client.username}, expires in ${lifetime} s`);
  send(response, 200, { access_token: token, token_type: "Bearer", expires_in: lifetime });
}

function introspect(response, client, token) {
  if (client === undefined || client.introspect !== true) {
    send(response, 401, { error: "invalid_client" }, { "www-authenticate": 'Basic realm="introspection"' });
    return;
  }
  const held = activeToken(token);
  log(`introspection by ${client.id}: ${held ? `active, ${held.username}` : "inactive"}`);
  if (held === undefined) {
    send(response, 200, { active: false });
    return;
  }
  send(response, 200, {
    active: true,
    username: held.username,
    client_id: held.clientId,
    token_type: "Bearer",
    exp: Math.floor(held.expMs / 1000),
  });
}

function revoke(response, client, token) {
  const held = token ? tokens.get(token) : undefined;
  // RFC 7009 §2.2: an unknown token is answered 200 as well.
  if (held !== undefined && (client.introspect === true || client.id === held.clientId)) {
    tokens.delete(token);
    log(`token of client ${held.clientId} revoked by ${client.id}`);
  }
  send(response, 200, {});
}

async function readForm(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error("body too large");
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

const server = createServer(async (request, response) => {
  try {
    const url = new URL(request.url ?? "/", "http://localhost");
    const form = request.method === "POST" ? await readForm(request) : new URLSearchParams();
    const client = authenticatedClient(request, form);
    if (url.pathname === "/introspect" && (request.method === "POST" || request.method === "GET")) {
      introspect(response, client, form.get("token") ?? url.searchParams.get("token"));
      return;
    }
    if (request.method !== "POST" || (url.pathname !== "/token" && url.pathname !== "/revoke")) {
      send(response, 404, { error: "not_found", error_description: "POST /token, /introspect or /revoke" });
      return;
    }
    if (client === undefined) {
      log(`${url.pathname}: client authentication failed`);
      send(response, 401, { error: "invalid_client" }, { "www-authenticate": 'Basic realm="token"' });
      return;
    }
    if (url.pathname === "/token") issue(response, client, form);
    else revoke(response, client, form.get("token"));
  } catch (error) {
    send(response, 400, { error: "invalid_request", error_description: error.message });
  }
});
server.requestTimeout = 10_000;
server.listen(Number(portText), host, () => {
  if (values["pid-file"]) writeFileSync(values["pid-file"], `${process.pid}\n`);
  log(`listening on ${host}:${portText}, tokens last ${lifetimeS} s`);
});
server.on("error", (error) => fail(`cannot listen on ${values.listen}: ${error.message}`));
// Nothing to flush: tokens live in memory only.
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
// Expired tokens go once a minute, so the map stays small however long it runs.
setInterval(() => {
  for (const [token, held] of tokens) if (Date.now() >= held.expMs) tokens.delete(token);
}, 60_000).unref();
