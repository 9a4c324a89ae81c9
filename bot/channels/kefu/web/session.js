// The page's login and its renewal (bot/channels/kefu/auth.py says why this is safe).
//  - Kiosk: the token comes once in the address (#token=…), is traded for an HttpOnly cookie and
//    removed from the address bar, so it is neither kept in the page nor in the history.
//  - Later loads, and every half-life of the cookie: POST /session/renew trades the valid cookie for
//    a fresh one, so a kiosk that stays on never reaches the expiry and needs no staff to log in.
//  - Public mode (data-public="true", settings.yml kefu_public): without a token or a cookie the page
//    takes a public session; its conversations' ids must begin with the session's prefix.

const API = "/api/v1";
const RETRY_MS = 30_000;  // a renewal that could not reach the server is tried again this soon
let info = null;  // the last SessionResponse: mode, session_prefix, expires_in
let renewTimer = null;

function post(path, body) {
  return fetch(API + path, {
    method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}),
  });
}

export async function errorText(response) {
  try {
    const data = await response.json();
    if (data && data.error && data.error.message) return data.error.message;
  } catch (ignored) { /* not JSON: fall through */ }
  return "请求失败（HTTP " + response.status + "）";
}

function schedule(ms) {
  clearTimeout(renewTimer);
  renewTimer = setTimeout(renew, ms);
}

async function accept(response) {
  info = await response.json();
  // Renew at half the cookie's life (the token itself has no expiry: nothing to renew).
  if (info.expires_in !== null && info.expires_in !== undefined) schedule(Math.max(1, info.expires_in / 2) * 1000);
}

async function renew() {
  try {
    const response = await post("/session/renew");
    if (response.ok) {
      await accept(response);
      document.body.dataset.renewals = String(Number(document.body.dataset.renewals || 0) + 1);
      return;
    }
    if (response.status === 401) return;  // expired meanwhile (a suspended kiosk): the next message says so
  } catch (error) { /* the network is down: try again soon */ }
  schedule(RETRY_MS);
}

// Log in: {ok, message} (message: why not, for the page to show).
export async function startSession(isPublic) {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  let response;
  if (match) {
    history.replaceState(null, "", location.pathname + location.search);
    response = await post("/session", { token: decodeURIComponent(match[1]) });
  } else {
    response = await post("/session/renew");
    if (!response.ok && isPublic) response = await post("/session/public");
  }
  if (!response.ok) return { ok: false, status: response.status, message: await errorText(response) };
  await accept(response);
  return { ok: true };
}

// Public mode after a 401 (the phone slept past the expiry): a new public session.
export async function newPublicSession() {
  const response = await post("/session/public");
  if (!response.ok) return false;
  await accept(response);
  return true;
}

export function sessionMode() {
  return info ? info.mode : null;
}

// A new conversation id: the public session's prefix, or "web-" for kiosks.
export function newSessionId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  const prefix = (info && info.session_prefix) || "web-";
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
