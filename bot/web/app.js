// 智能云客服网页对话：大厅自助终端（1920×1080）和手机都用这一页。
// No framework and no third-party file: the page must work in a hall network without internet.
// Every text from the server is put in with textContent, never innerHTML: guide texts are data.
"use strict";

(function () {
  const API = "/api/v1";
  const hotline = document.body.dataset.hotline || "12345";
  const chat = document.getElementById("chat");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const examples = document.getElementById("examples");
  const EXAMPLES = ["开办企业需要什么材料", "用水报装要多久", "营业执照丢了怎么补办", "惠企政策免申即享由哪些部门牵头"];
  const GREETING = "您好！我是政务服务智能问答助手，可以告诉您办事需要的材料、流程、时限、费用、地点，以及该找哪个窗口、打哪个电话。请直接输入您的问题，或点下面的常见问题。";

  let sessionId = newSessionId();
  let busy = false;

  function newSessionId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function scrollToEnd() {
    chat.scrollTop = chat.scrollHeight;
  }

  function addBubble(who, text, extraClass) {
    const row = el("div", "row " + who);
    const bubble = el("div", "bubble" + (extraClass ? " " + extraClass : ""), text);
    row.appendChild(bubble);
    chat.appendChild(row);
    scrollToEnd();
    return row;
  }

  function addBot(text, extraClass) {
    return addBubble("bot", text, extraClass);
  }

  function addUser(text) {
    return addBubble("user", text);
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    document.querySelectorAll(".choices button:not(.used)").forEach((b) => { b.disabled = value; });
  }

  function typing() {
    const row = el("div", "row bot typing-row");
    const bubble = el("div", "bubble typing");
    bubble.setAttribute("aria-label", "正在查询");
    for (let i = 0; i < 3; i++) bubble.appendChild(el("span", "dot"));
    row.appendChild(bubble);
    chat.appendChild(row);
    scrollToEnd();
    return row;
  }

  function guideCard(guide, contacts) {
    const card = el("section", "guide-card");
    card.setAttribute("aria-label", "办事指南");
    card.appendChild(el("h2", "guide-title", guide.title));
    const meta = el("p", "guide-meta");
    meta.appendChild(el("span", "", "责任部门：" + guide.department));
    meta.appendChild(el("span", "", "更新于 " + guide.updated));
    card.appendChild(meta);
    if (contacts && contacts.length) {
      const list = el("ul", "contacts");
      contacts.forEach((c) => {
        const item = el("li", "contact");
        item.appendChild(el("div", "unit", c.unit));
        const phone = el("a", "phone", c.phone);
        phone.href = "tel:" + String(c.phone).replace(/[^0-9+]/g, "");
        item.appendChild(phone);
        if (c.address) item.appendChild(el("div", "detail", "地址：" + c.address));
        if (c.hours) item.appendChild(el("div", "detail", "办公时间：" + c.hours));
        list.appendChild(item);
      });
      card.appendChild(list);
    }
    const link = el("a", "notice-link", "打印一次性告知单");
    link.href = guide.notice_url;  // same origin; the session cookie authorises it
    link.target = "_blank";
    link.rel = "noopener";
    card.appendChild(link);
    return card;
  }

  function contactsCard(contacts) {
    const card = el("section", "guide-card handoff-card");
    card.appendChild(el("h2", "guide-title", "人工服务联系方式"));
    const list = el("ul", "contacts");
    contacts.forEach((c) => {
      const item = el("li", "contact");
      item.appendChild(el("div", "unit", c.unit));
      const phone = el("a", "phone", c.phone);
      phone.href = "tel:" + String(c.phone).replace(/[^0-9+]/g, "");
      item.appendChild(phone);
      list.appendChild(item);
    });
    card.appendChild(list);
    return card;
  }

  function choices(buttons) {
    const group = el("div", "choices");
    group.setAttribute("role", "group");
    buttons.forEach((b) => {
      const isFeedback = b.payload === "/feedback_good" || b.payload === "/feedback_bad";
      const button = el("button", isFeedback ? "choice feedback" : "choice", b.title);
      button.type = "button";
      button.addEventListener("click", () => {
        if (busy) return;
        // One choice per question: the group is spent once used, like a paper form.
        group.querySelectorAll("button").forEach((other) => { other.disabled = true; other.classList.add("used"); });
        button.classList.add("chosen");
        send(b.payload, b.title);
      });
      group.appendChild(button);
    });
    return group;
  }

  function render(reply) {
    const kindClass = { unavailable: "warning", too_long: "warning", empty: "hint", handoff: "handoff" }[reply.kind] || "";
    (reply.messages || []).forEach((m) => addBot(m.text, kindClass));
    if (reply.guide) {
      const row = el("div", "row bot");
      row.appendChild(guideCard(reply.guide, reply.contacts || []));
      chat.appendChild(row);
    } else if (reply.handoff && reply.contacts && reply.contacts.length) {
      const row = el("div", "row bot");
      row.appendChild(contactsCard(reply.contacts));
      chat.appendChild(row);
    }
    if (reply.buttons && reply.buttons.length) {
      const row = el("div", "row bot");
      row.appendChild(choices(reply.buttons));
      chat.appendChild(row);
    }
    scrollToEnd();
  }

  function unavailableText() {
    return "抱歉，网络连接失败，智能助手暂时无法回答，请稍后再试。急需办事可拨打政务服务热线 " + hotline + "，或到政务服务中心窗口咨询。";
  }

  async function post(path, body) {
    return fetch(API + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  async function errorText(response) {
    try {
      const data = await response.json();
      if (data && data.error && data.error.message) return data.error.message;
    } catch (ignored) { /* not JSON: fall through */ }
    return "请求失败（HTTP " + response.status + "）";
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
    const userRow = addUser(shown || message);
    setBusy(true);
    const indicator = typing();
    try {
      const response = await post("/chat", { session_id: sessionId, message: message });
      indicator.remove();
      if (response.status === 401) {
        addBot("登录已失效，请使用带令牌的地址重新打开本页（由 make run 打印），或请工作人员协助。", "warning");
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
    }
  }

  function showExamples() {
    examples.replaceChildren();
    EXAMPLES.forEach((q) => {
      const chip = el("button", "example", q);
      chip.type = "button";
      chip.addEventListener("click", () => send(q));
      examples.appendChild(chip);
    });
  }

  function restart() {
    sessionId = newSessionId();
    chat.replaceChildren();
    addBot(GREETING);
    input.value = "";
    input.focus();
  }

  async function login() {
    // The token comes once in the address (#token=…), is traded for an HttpOnly cookie and
    // removed from the address bar, so it is neither kept in the page nor in the history.
    const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (match) {
      history.replaceState(null, "", location.pathname + location.search);
      const response = await post("/session", { token: decodeURIComponent(match[1]) });
      return response.ok;
    }
    const response = await fetch(API + "/session", { credentials: "same-origin" });
    return response.ok;
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

  document.getElementById("human").addEventListener("click", () => send("/request_human", "转人工"));
  document.getElementById("restart").addEventListener("click", restart);

  showExamples();
  addBot(GREETING);
  login().then((ok) => {
    if (!ok) {
      addBot("尚未登录：请使用带令牌的地址打开本页（make run 启动时打印），或请工作人员协助。急需办事请拨打 " + hotline + "。", "warning");
    }
    document.body.dataset.ready = ok ? "yes" : "no";
  }).catch(() => {
    addBot(unavailableText(), "warning");
    document.body.dataset.ready = "no";
  });
  input.focus();
})();
