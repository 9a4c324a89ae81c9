// 人工坐席: the staff desk and the clerk's console (served at /desk, API under /desk/api/).
// No framework, no third-party file; every text from the server goes in with textContent (it is data).
// The queue and the open case are polled every few seconds: a clerk sees new handoffs and citizens'
// messages without reloading.
"use strict";

(function () {
  const API = "/desk/api";
  const POLL_MS = 2500;
  const CHANNELS = [["kefu-", "网页/自助终端"], ["tg-", "Telegram"]];
  // Maps, not plain objects: a status or reason the desk has no words for ("constructor") reads as itself, not as
  // something every object inherits.
  const STATUS = new Map([["waiting", "等待接入"], ["taken", "已接入"], ["closed", "已结束"]]);
  // reason: the desk's words for it, of each handoff reason (protocol.py, filled in by page.py render_desk)
  const REASONS = new Map(Object.entries(JSON.parse(document.body.dataset.reasons || "{}")));
  const WHO = { user: "群众", bot: "助手", citizen: "群众", clerk: "工作人员", desk: "坐席通知" };
  // [payload, title] of each button (protocol.py, filled in by page.py render_desk): one source for the payloads
  const BUTTONS = JSON.parse(document.body.dataset.buttons || "[]");
  const $ = (id) => document.getElementById(id);

  let clerk = "";
  let selected = null;  // the open case's id
  let lastCase = "";    // the open case as last drawn, to redraw only when it changed
  let timer = null;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function channel(sender) {
    const found = CHANNELS.find(([prefix]) => sender.startsWith(prefix));
    return found ? found[1] : "REST 接口";
  }

  async function call(path, options) {
    const init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (init.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(init.body);
    }
    const response = await fetch(API + path, init);
    let data = null;
    try { data = await response.json(); } catch (ignored) { /* not JSON */ }
    if (response.status === 401 && path !== "/session") showLogin("登录已失效，请重新登录。");
    if (!response.ok) {
      const message = data && data.error && data.error.message ? data.error.message : "请求失败（HTTP " + response.status + "）";
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // --- login ----------------------------------------------------------------------------------
  function showLogin(message) {
    clearTimeout(timer);
    $("desk").hidden = true;
    $("logout").hidden = true;
    $("whoami").textContent = "";
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    document.body.dataset.ready = "login";
  }

  function showDesk(session) {
    clerk = session.clerk || clerk;
    $("login").hidden = true;
    $("desk").hidden = false;
    $("logout").hidden = false;
    $("whoami").textContent = "工作人员：" + clerk;
    duty(session);
    document.body.dataset.ready = "desk";
    poll();
  }

  function duty(info) {
    const badge = $("duty");
    if (info.on_duty === undefined) return;
    badge.textContent = (info.on_duty === false ? "非工作时间" : "工作时间") + "（" + info.staff_hours + "）";
    badge.classList.toggle("off", info.on_duty === false);
  }

  $("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await call("/session", { method: "POST", body: { token: $("login-token").value.trim(), clerk: $("login-clerk").value.trim() } });
      $("login-token").value = "";
      showDesk(await call("/session"));
    } catch (error) {
      $("login-error").textContent = error.message;
    }
  });

  $("logout").addEventListener("click", async () => {
    try { await call("/session", { method: "DELETE" }); } catch (ignored) { /* logged out anyway */ }
    selected = null;
    showLogin("已退出。");
  });

  // --- the queue ------------------------------------------------------------------------------
  async function poll() {
    clearTimeout(timer);
    try {
      const data = await call("/queue");
      duty(data);
      drawQueue(data.handoffs);
      if (selected !== null) await refreshCase();
    } catch (error) {
      if (error.status === 401) return;
    }
    timer = setTimeout(poll, POLL_MS);
  }

  function drawQueue(handoffs) {
    const list = $("queue");
    list.replaceChildren();
    const open = handoffs.filter((h) => h.status !== "closed").length;
    $("queue-count").textContent = "待处理 " + open;
    const waiting = handoffs.filter((h) => h.status === "waiting").length;
    document.title = (waiting ? "(" + waiting + " 等待) " : "") + "人工坐席 · 政务服务智能问答";  // seen from another tab
    handoffs.forEach((h) => {
      const item = el("li", h.status + (h.id === selected ? " selected" : ""));
      item.dataset.id = h.id;
      const head = el("div", "item-head");
      head.appendChild(el("span", "badge " + h.status, STATUS.get(h.status) || h.status));
      head.appendChild(el("span", "", "#" + h.id + " · " + channel(h.sender_id) + " · " + h.time.replace("T", " ")));
      item.appendChild(head);
      item.appendChild(el("div", "item-question", h.question || "（没有问题文字）"));
      const detail = [REASONS.get(h.reason) || h.reason];
      if (h.guide) detail.push(h.guide.title);
      if (h.clerk) detail.push(h.status === "closed" ? h.clerk + " · " + (h.outcome_label || "") : h.clerk);
      item.appendChild(el("div", "meta", detail.join(" · ")));
      item.addEventListener("click", () => open_(h.id));
      list.appendChild(item);
    });
  }

  // --- one case -------------------------------------------------------------------------------
  async function open_(id) {
    selected = id;
    lastCase = "";
    $("case-error").textContent = "";
    document.querySelectorAll("#queue li").forEach((li) => li.classList.toggle("selected", Number(li.dataset.id) === id));
    await refreshCase();
  }

  async function refreshCase() {
    const data = await call("/handoffs/" + selected);
    const drawn = JSON.stringify(data);
    if (drawn === lastCase) return;
    const first = !lastCase || JSON.parse(lastCase).sender_id !== data.sender_id;
    lastCase = drawn;
    drawCase(data);
    if (first) history(data.sender_id);
  }

  function drawCase(h) {
    $("case-empty").hidden = true;
    $("case").hidden = false;
    $("case").dataset.status = h.status;
    $("case-title").textContent = "转人工 #" + h.id + " · " + (STATUS.get(h.status) || h.status);
    const meta = [channel(h.sender_id), "会话 " + h.sender_id, h.time.replace("T", " "), REASONS.get(h.reason) || h.reason];
    if (h.clerk) meta.push("工作人员 " + h.clerk);
    if (h.status === "closed") meta.push("结果 " + (h.outcome_label || "") + (h.outcome_note ? "（" + h.outcome_note + "）" : ""));
    $("case-meta").textContent = meta.join(" · ");
    $("case-question").textContent = "群众的问题：" + (h.question || "（无）");
    const guide = $("case-guide");
    guide.replaceChildren();
    if (h.guide) {
      const link = el("button", "secondary", "相关事项：" + h.guide.title + "（查看指南）");
      link.type = "button";
      link.addEventListener("click", () => showGuide(h.guide.id));
      guide.appendChild(link);
    }
    const mine = h.status === "taken" && h.clerk === clerk;
    $("take").hidden = h.status !== "waiting";
    $("reply-form").hidden = !mine;
    // The REST channel belongs to another system: the desk cannot push lines into it.
    $("reply-note").textContent = mine && channel(h.sender_id) === "REST 接口"
      ? "这个会话来自其他系统的 REST 接口，回复只记录在这里、对方收不到；请按对话记录里的方式电话联系。" : "";
    $("close-form").hidden = h.status === "closed" || (h.status === "taken" && !mine);
    lines($("transcript"), h.transcript.map((l) => ({ who: l.from, text: l.text, time: l.time })));
    lines($("lines"), h.messages.map((m) => ({ who: m.author, text: m.text, time: m.time, clerk: m.clerk })));
    const actions = $("actions");
    actions.replaceChildren();
    h.actions.forEach((a) => {
      const names = { take: "接入", reply: "回复", close: "结束" };
      actions.appendChild(el("li", "", a.time.replace("T", " ") + " " + a.clerk + " " + (names[a.action] || a.action)));
    });
  }

  // A button's payload in the transcript, as the citizen saw the button.
  function readable(text) {
    // the payload alone, or followed by its entities (a rating names its answer: protocol.rating_payload)
    const button = BUTTONS.find(([payload]) => text === payload || text.startsWith(payload + "{"));
    if (button) return "（点击了“" + button[1] + "”）";
    if (/^\/\w+/.test(text)) return "（点击了按钮）";
    return text;
  }

  function lines(list, items) {
    list.replaceChildren();
    items.forEach((item) => {
      const row = el("li", "line-" + item.who);
      // "16:02" before each line: when the citizen asked, when the clerk replied (ISO times on the deployment's clock)
      if (/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(item.time || "")) row.appendChild(el("span", "time", item.time.slice(11, 16) + " "));
      row.appendChild(el("span", "who", (WHO[item.who] || item.who) + (item.clerk && item.who === "clerk" ? "（" + item.clerk + "）" : "") + "："));
      row.appendChild(document.createTextNode(item.who === "user" ? readable(item.text) : item.text));
      list.appendChild(row);
    });
    list.scrollTop = list.scrollHeight;
  }

  async function act(path, body) {
    $("case-error").textContent = "";
    try {
      await call("/handoffs/" + selected + path, { method: "POST", body: body });
      lastCase = "";
      await poll();
      return true;
    } catch (error) {
      $("case-error").textContent = error.message;
      return false;
    }
  }

  $("take").addEventListener("click", () => act("/take", {}));
  $("reply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("reply-text").value.trim();
    if (!text) return;
    if (await act("/reply", { text: text })) $("reply-text").value = "";
  });
  $("reply-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  });
  $("close-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await act("/close", { outcome: $("outcome").value, note: $("note").value.trim() })) $("note").value = "";
  });

  // --- the console: search, guide card, history -------------------------------------------------
  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = $("search-q").value.trim();
    if (!q) return;
    $("search-note").textContent = "正在查找…（第一次查找要加载检索模型，约需几秒）";
    $("results").replaceChildren();
    try {
      const found = await call("/search?q=" + encodeURIComponent(q));
      $("search-note").textContent = found.decision_label + (found.results.length ? "；结果：" : "；没有相关指南");
      found.results.forEach((r) => {
        const item = el("li", "");
        item.dataset.guide = r.guide_id || "";
        item.appendChild(el("div", "title", r.title + (r.section ? " · " + r.section : "")));
        item.appendChild(el("div", "meta", r.snippet));
        if (r.guide_id) item.addEventListener("click", () => showGuide(r.guide_id));
        $("results").appendChild(item);
      });
    } catch (error) {
      $("search-note").textContent = error.message;
    }
  });

  let cardText = "";

  async function showGuide(id) {
    let g;
    try {
      g = await call("/guides/" + encodeURIComponent(id));
    } catch (error) {
      $("search-note").textContent = error.message;
      return;
    }
    const body = $("guide-body");
    body.replaceChildren();
    const text = ["【" + g.title + "】", "责任部门：" + g.department + "　更新于 " + g.updated + "　来源：" + (g.source || "")];
    body.appendChild(el("h2", "guide-title", g.title));
    body.appendChild(el("p", "meta", "责任部门：" + g.department + " · 更新于 " + g.updated + " · 来源：" + (g.source || "")));
    Object.entries(g.sections || {}).forEach(([heading, section]) => {
      const part = el("section", "");
      part.appendChild(el("h4", "", heading));
      part.appendChild(el("p", "", section.text));
      body.appendChild(part);
      text.push("", heading + "：", section.text);
    });
    if (g.faqs && g.faqs.length) {
      const part = el("section", "");
      part.appendChild(el("h4", "", "常见问题"));
      g.faqs.forEach((f) => {
        part.appendChild(el("p", "", "问：" + f.question + "\n答：" + f.answer));
        text.push("问：" + f.question, "答：" + f.answer);
      });
      body.appendChild(part);
    }
    const contacts = el("section", "contacts");
    contacts.appendChild(el("h4", "", "联系方式"));
    text.push("", "联系方式：");
    (g.contacts || []).forEach((c) => {
      const line = c.unit + "　电话 " + c.phone + (c.address ? "　地址 " + c.address : "") + (c.hours ? "　办公时间 " + c.hours : "");
      contacts.appendChild(el("p", "contact", line));
      text.push(line);
    });
    if (g.complaint_phone) {
      contacts.appendChild(el("p", "", "投诉监督电话：" + g.complaint_phone));
      text.push("投诉监督电话：" + g.complaint_phone);
    }
    body.appendChild(contacts);
    cardText = text.join("\n");
    $("guide-card").dataset.guide = g.id;
    $("guide-card").hidden = false;
    $("copy-note").textContent = "";
  }

  $("copy-guide").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(cardText);
    } catch (ignored) {
      // No clipboard permission (an http page, an old browser): copy through a selected text box.
      const box = el("textarea", "sr-only");
      box.value = cardText;
      document.body.appendChild(box);
      box.select();
      document.execCommand("copy");
      box.remove();
    }
    $("copy-note").textContent = "已复制";
  });
  $("print-guide").addEventListener("click", () => window.print());

  async function history(sender) {
    $("history-sender").textContent = sender;
    const list = $("history");
    list.replaceChildren();
    try {
      const data = await call("/history?sender_id=" + encodeURIComponent(sender));
      const outcomes = { answered: "已回答", clarified: "反问", not_found: "没找到", out_of_scope: "不在服务范围", asked_item: "问事项", unavailable: "不可用" };
      data.questions.forEach((q) => {
        list.appendChild(el("li", "", q.time.replace("T", " ") + " " + q.question + " → " + (outcomes[q.outcome] || q.outcome) +
          (q.guide_title ? "【" + q.guide_title + "】" : q.guide_id ? "（" + q.guide_id + "）" : "")));
      });
      data.handoffs.forEach((h) => list.appendChild(el("li", "", h.time.replace("T", " ") + " 转人工 #" + h.id + " " + (STATUS.get(h.status) || h.status))));
      if (!list.children.length) list.appendChild(el("li", "hint", "没有问题记录"));
    } catch (error) {
      list.appendChild(el("li", "error", error.message));
    }
  }

  // --- start ----------------------------------------------------------------------------------
  call("/session").then(showDesk).catch((error) => {
    showLogin(error.status === 503 ? error.message : "");
  });
})();
