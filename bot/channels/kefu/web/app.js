// 智能云客服网页对话：大厅自助终端（1920×1080）和手机都用这一页。
// No framework and no third-party file: the page must work in a hall network without internet.
// Modules: session.js (login, renewal, public mode), view.js (rows, cards, button groups),
// notice-view.js (the notice in an overlay), fontsize.js (A−/A+). This file: the conversation.
import { setupFontSize } from "./fontsize.js";
import { closeNotice, openNotice } from "./notice-view.js";
import { errorText, newPublicSession, newSessionId, sessionMode, startSession } from "./session.js";
import { addSupervision, choiceGroups, contactsCard, el, fillText, guideCard, phonesOf, speakerRow } from "./view.js";

const API = "/api/v1";
const hotline = document.body.dataset.hotline || "12345";
const isPublic = document.body.dataset.public === "true";
const handoffPayload = document.body.dataset.handoff;  // 转人工 (protocol.REQUEST_HUMAN, filled in by page.py)
const handoffTitle = document.body.dataset.handoffTitle;  // its button's title (protocol.TITLE_REQUEST_HUMAN, likewise)
const ratingPayloads = JSON.parse(document.body.dataset.ratings || "[]");  // 好评 / 差评 (protocol.FEEDBACK_GOOD, FEEDBACK_BAD)
const chat = document.getElementById("chat");
const form = document.getElementById("composer");
const input = document.getElementById("message");
const sendButton = document.getElementById("send");
const examples = document.getElementById("examples");
const fontSize = setupFontSize(document.getElementById("font-smaller"), document.getElementById("font-larger"));
// The chips: the published guides' example questions (knowledge/examples.py), rendered into the page by
// the server, and read again from GET /api/v1/examples at every new conversation, so a kiosk left open
// for days offers the questions of the version now published (after a rebuild or a rollback).
let exampleQuestions = JSON.parse(document.body.dataset.examples || "[]");
const IDLE_NOTICE = "为保护您的隐私，上一位用户的对话已清除。";
const GREETING = "您好！我是政务服务智能问答助手，可以告诉您办事需要的材料、流程、时限、费用、地点，以及该找哪个窗口、打哪个电话。请直接输入您的问题";

// No chips (nothing published yet): the greeting does not point at them.
function greeting() {
  return GREETING + (exampleQuestions.length ? "，或点下面的常见问题。" : "。");
}

// Kiosk privacy: after IDLE_SECONDS without input the conversation is cleared for the next
// citizen, after a short warning that any touch or key cancels. Set in one place, data-idle-seconds
// in index.html; "?idle=<seconds>" in the address can only shorten it (the browser test uses
// ?idle=4), so nobody can switch the reset off from the address bar. A public session (a citizen's
// own phone) is not cleared.
const IDLE_SECONDS = idleSeconds();
const WARNING_SECONDS = Math.min(20, Math.max(1, Math.round(IDLE_SECONDS / 6)));

let sessionId = newSessionId();
let busy = false;
let idleTimer = null;
let idleWarning = null;  // the warning row while it counts down
// After 转人工 the page asks the staff desk for this session's lines ("工作人员已接入", the clerk's
// replies) every STAFF_POLL_MS until the clerk closes it; a new conversation stops it.
const STAFF_POLL_MS = 3000;
let staffTimer = null;
let staffAfter = 0;

function idleSeconds() {
  const set = Number(document.body.dataset.idleSeconds);
  const configured = set > 0 ? set : 180;
  const requested = Number(new URLSearchParams(location.search).get("idle"));
  return requested > 0 ? Math.min(requested, configured) : configured;
}

function scrollToEnd() {
  chat.scrollTop = chat.scrollHeight;
}

function addBubble(who, text, extraClass, cardPhones, speaker) {
  const row = speakerRow(who, speaker || (who === "user" ? "您" : "助手"));
  const bubble = el("div", "bubble" + (extraClass ? " " + extraClass : ""));
  fillText(bubble, text, cardPhones || []);
  row.appendChild(bubble);
  chat.appendChild(row);
  scrollToEnd();
  return row;
}

function addBot(text, extraClass, cardPhones) {
  return addBubble("bot", text, extraClass, cardPhones);
}

function setBusy(value) {
  busy = value;
  sendButton.disabled = value;
  document.querySelectorAll(".choices button:not(.used)").forEach((b) => { b.disabled = value; });
}

function typing() {
  const row = el("div", "row bot typing-row");
  const bubble = el("div", "bubble typing");
  bubble.setAttribute("role", "status");
  bubble.setAttribute("aria-label", "助手正在查询");
  for (let i = 0; i < 3; i++) bubble.appendChild(el("span", "dot"));
  row.appendChild(bubble);
  chat.appendChild(row);
  scrollToEnd();
  return row;
}

function choose(button) {
  if (busy) return false;
  send(button.payload, button.title);
  return true;
}

function render(reply) {
  const kindClass = { unavailable: "warning", too_long: "warning", empty: "hint", handoff: "handoff", staff: "hint" }[reply.kind] || "";
  if (reply.kind === "handoff" || reply.kind === "staff") watchStaff();
  const contacts = reply.contacts || [];
  const supervision = reply.handoff ? reply.supervision : null;  // a complaint about a matter: whom to complain to
  const carded = contacts.flatMap(phonesOf);  // every reply's contacts are shown in a card, tap-to-call
  // the supervision line too, unless its number is the hotline: the text's own hotline line then stays on a phone's screen
  if (supervision && supervision.phone && supervision.phone !== hotline) carded.push(supervision.phone);
  (reply.messages || []).forEach((m) => addBot(m.text, kindClass, carded));
  let card = null;
  if (reply.guide) card = guideCard(reply.guide, contacts, (url, link) => openNotice(url, link, activity));
  else if (reply.handoff && (contacts.length || supervision)) card = contactsCard(contacts, { title: "人工服务联系方式", details: false, kind: "handoff-card" });
  // the offices asked for by name ("市监局电话多少"), before the matters to pick: their address and hours too
  else if (contacts.length) card = contactsCard(contacts, { title: "您问的单位", details: true, kind: "offices-card" });
  if (card && supervision) addSupervision(card, supervision, hotline);
  if (card) {
    const row = speakerRow("bot", "助手");
    row.appendChild(card);
    chat.appendChild(row);
  }
  choiceGroups(reply.buttons || [], reply.kind, choose, handoffPayload, ratingPayloads).forEach((group) => {
    const row = el("div", "row bot");
    row.appendChild(group);
    chat.appendChild(row);
  });
  scrollToEnd();
}

// --- the staff desk's lines for this session -------------------------------------------------
function watchStaff() {
  if (staffTimer === null) staffTimer = setTimeout(pollStaff, STAFF_POLL_MS);
}

function stopStaff() {
  clearTimeout(staffTimer);
  staffTimer = null;
  staffAfter = 0;
}

async function pollStaff() {
  const session = sessionId;
  let status = "waiting";
  try {
    const response = await fetch(API + "/chat/staff?session_id=" + encodeURIComponent(session) + "&after=" + staffAfter,
                                 { credentials: "same-origin" });
    if (session !== sessionId) return;  // a new conversation began meanwhile: its lines are not these
    if (response.ok) {
      const data = await response.json();
      status = data.status;
      data.messages.forEach((m) => {
        staffAfter = Math.max(staffAfter, m.id);
        if (m.author === "clerk") {
          const speaker = "工作人员（" + m.clerk + "）";
          const row = addBubble("bot staff", m.text, "staff", [], speaker);
          row.insertBefore(el("div", "speaker", speaker), row.querySelector(".bubble"));
          row.querySelector(".speaker-label").remove();  // the visible name says it already
        } else {
          addBubble("bot", m.text, "staff-notice", [], "工作人员");  // "工作人员已接入…": the desk speaks, not the assistant
        }
      });
      if (data.messages.length) armIdle();
    }
  } catch (error) { /* the network is down: try again on the next round */ }
  staffTimer = null;
  if (status !== "closed" && status !== "none" && session === sessionId) watchStaff();
}

function unavailableText() {
  return "抱歉，网络连接失败，智能助手暂时无法回答，请稍后再试。急需办事可拨打政务服务热线 " + hotline + "，或到政务服务中心窗口咨询。";
}

function postChat(message) {
  return fetch(API + "/chat", {
    method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ session_id: sessionId, message: message }),
  });
}

// A long answer is read from its start: keep the question at the top instead of jumping to
// the end of the answer (a kiosk user would otherwise see only the contacts).
function reveal(userRow) {
  if (chat.scrollHeight - userRow.offsetTop > chat.clientHeight) {
    chat.scrollTop = userRow.offsetTop - 8;
  } else {
    scrollToEnd();
  }
}

async function send(message, shown) {
  if (busy) return;
  const userRow = addBubble("user", shown || message);
  setBusy(true);
  const indicator = typing();
  try {
    let response = await postChat(message);
    if (response.status === 401 && isPublic && await newPublicSession()) {
      sessionId = newSessionId();  // the phone slept past its session: a new one, asked again
      response = await postChat(message);
    }
    indicator.remove();
    if (response.status === 401) {
      addBot("登录已失效，请使用带令牌的地址重新打开本页（由 make run 打印），或请工作人员协助。急需办事请拨打 " + hotline + "。", "warning");
    } else if (!response.ok) {
      addBot(await errorText(response), "warning");
    } else {
      render(await response.json());
      reveal(userRow);
    }
  } catch (error) {
    indicator.remove();
    addBot(unavailableText(), "warning");
  } finally {
    setBusy(false);
    input.focus();
    armIdle();  // the idle time counts from the answer: the citizen is reading it
  }
}

function showExamples() {
  examples.replaceChildren();
  exampleQuestions.forEach((q) => {
    const chip = el("button", "example", q);
    chip.type = "button";
    chip.addEventListener("click", () => send(q));
    examples.appendChild(chip);
  });
}

// The published examples now; the greeting row is reworded if they appeared or went. Unreachable or
// refused: the chips shown stay (they were right a conversation ago).
async function refreshExamples(greetingRow) {
  try {
    const response = await fetch(API + "/examples", { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return;
    const data = await response.json();
    if (!Array.isArray(data.questions)) return;
    exampleQuestions = data.questions.map(String);
    showExamples();
    const bubble = greetingRow.querySelector(".bubble");
    if (greetingRow.isConnected && bubble) bubble.textContent = greeting();
  } catch (error) {
    // the network is down: the next question will say so
  }
}

// A citizen's own phone (a public session) keeps its owner's conversation and font size; a hall kiosk
// (logged in with the token) is shared: the next citizen starts afresh.
function ownDevice() {
  return sessionMode() === "public";
}

function restart(notice) {
  stopStaff();
  closeNotice();
  if (!ownDevice()) fontSize.reset();  // 新对话 or the idle reset: not the previous citizen's A+
  sessionId = newSessionId();
  idleWarning = null;
  chat.replaceChildren();
  if (notice) addBot(notice, "hint idle-notice");
  refreshExamples(addBot(greeting()));
  input.value = "";
  fitInput();
  input.focus();
  armIdle();
}

// --- idle reset (kiosks only) ------------------------------------------------------------------
function hasConversation() {
  return chat.querySelector(".row.user") !== null || input.value.trim() !== "";
}

function armIdle() {
  clearTimeout(idleTimer);
  if (ownDevice()) return;  // a citizen's own phone keeps its conversation
  idleTimer = setTimeout(warnIdle, (IDLE_SECONDS - WARNING_SECONDS) * 1000);
}

function activity() {
  if (idleWarning) {
    idleWarning.remove();
    idleWarning = null;
  }
  armIdle();
}

function warnIdle() {
  if (busy || !hasConversation()) {
    // Nothing to clear, but A+ pressed and no question asked: the next citizen gets the default size back.
    if (!busy && fontSize.changed()) fontSize.reset();
    armIdle();  // an answer is on its way, or there is nothing to clear
    return;
  }
  closeNotice();  // the warning must be seen
  let left = WARNING_SECONDS;
  const text = () => "长时间无操作，" + left + " 秒后将清空对话，以保护您的隐私。";
  const row = el("div", "row bot idle-warning");
  const bubble = el("div", "bubble warning", text());
  const keep = el("button", "choice", "继续使用");
  keep.type = "button";
  keep.addEventListener("click", activity);
  const group = el("div", "choices");
  group.appendChild(keep);
  bubble.appendChild(group);
  row.appendChild(bubble);
  chat.appendChild(row);
  scrollToEnd();
  idleWarning = row;
  const tick = () => {
    if (idleWarning !== row) return;  // cancelled by input
    left -= 1;
    if (left <= 0) {
      restart(IDLE_NOTICE);
      return;
    }
    bubble.firstChild.textContent = text();
    idleTimer = setTimeout(tick, 1000);
  };
  idleTimer = setTimeout(tick, 1000);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || busy) return;
  input.value = "";
  fitInput();
  send(text);
});

// The box grows with a long question (up to its CSS max-height) instead of scrolling inside one line.
function fitInput() {
  input.style.height = "auto";
  input.style.height = input.scrollHeight + 2 + "px";
}
input.addEventListener("input", fitInput);

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

document.getElementById("human").addEventListener("click", () => send(handoffPayload, handoffTitle));
document.getElementById("restart").addEventListener("click", () => restart());
["pointerdown", "keydown", "input", "wheel", "touchstart"].forEach((name) => {
  document.addEventListener(name, activity, { capture: true, passive: true });
});

showExamples();
addBot(greeting());
startSession(isPublic).then((result) => {
  sessionId = newSessionId();  // with the public session's prefix when there is one
  if (!result.ok) {
    const why = isPublic || result.status === 429 ? result.message
      : "尚未登录：请使用带令牌的地址打开本页（make run 启动时打印），或请工作人员协助。";
    addBot(why + (why.includes(hotline) ? "" : "急需办事请拨打 " + hotline + "。"), "warning");
  }
  document.body.dataset.mode = sessionMode() || "";
  document.body.dataset.ready = result.ok ? "yes" : "no";
  armIdle();
}).catch(() => {
  addBot(unavailableText(), "warning");
  document.body.dataset.ready = "no";
});
input.focus();
