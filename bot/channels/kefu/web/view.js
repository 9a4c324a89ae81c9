// What the conversation looks like: rows with their speaker for a screen reader, bubbles, the guide
// card, the button groups. Every text from the server goes in with textContent, never innerHTML:
// guide texts are data.

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// A row of the conversation, led by its speaker ("您：", "助手：", "工作人员（王芳）："): visually
// hidden for the assistant and the citizen (the side and colour say it), read by a screen reader.
export function speakerRow(who, speaker) {
  const row = el("div", "row " + who);
  row.appendChild(el("span", "sr-only speaker-label", speaker + "："));
  return row;
}

// A bubble's text line by line. Lines naming a phone that the reply's card also lists (the answer's
// 【联系方式】 block, a handoff's "窗口：…电话…") are marked, and phones hide them (style.css): on
// a small screen each number appears once, in the card, where it is a tap-to-call link.
export function fillText(bubble, text, cardPhones) {
  const lines = String(text).split("\n");
  const inCard = lines.map((line) => cardPhones.some((phone) => phone && line.includes(phone)));
  for (let i = 1; i < lines.length; i++) {
    if (!inCard[i] && inCard[i - 1] && /^\s/.test(lines[i])) inCard[i] = true;  // its "  地址：…；办公时间：…" line
  }
  for (let i = 0; i < lines.length - 1; i++) {
    if (lines[i].trim() === "【联系方式】" && inCard[i + 1]) inCard[i] = true;
  }
  if (!inCard.some(Boolean)) {
    bubble.textContent = String(text);
    return;
  }
  lines.forEach((line, i) => {
    bubble.appendChild(el("span", inCard[i] ? "line in-card" : "line", line + (i < lines.length - 1 ? "\n" : "")));
  });
}

function phoneLink(unit, number) {
  const phone = el("a", "phone", number);
  phone.href = "tel:" + String(number).replace(/[^0-9+]/g, "");
  phone.setAttribute("aria-label", "拨打 " + unit + " 电话 " + number);
  return phone;
}

// The phones of a contact: an office asked for by name has all its phones in `phones` (the unit is listed once).
export function phonesOf(contact) {
  return contact.phones && contact.phones.length ? contact.phones.map((p) => p.phone) : [contact.phone];
}

// Units with a tap-to-call phone; the guide card also shows each window's address and hours. An office with
// several phones (its sections' matters each have their own) shows each phone with the matters it is for.
function contactList(contacts, withDetails) {
  const list = el("ul", "contacts");
  contacts.forEach((c) => {
    const item = el("li", "contact");
    item.appendChild(el("div", "unit", c.unit));
    const several = withDetails && c.phones && c.phones.length > 1;
    (several ? c.phones : [{ phone: c.phone }]).forEach((p) => {
      item.appendChild(phoneLink(c.unit, p.phone));
      if (several && p.matters && p.matters.length) item.appendChild(el("div", "detail", "办理：" + p.matters.join("、")));
    });
    if (withDetails && c.address) item.appendChild(el("div", "detail", "地址：" + c.address));
    if (withDetails && c.hours) item.appendChild(el("div", "detail", "办公时间：" + c.hours));
    if (withDetails && !several && c.matters && c.matters.length) item.appendChild(el("div", "detail", "办理：" + c.matters.join("、")));
    list.appendChild(item);
  });
  return list;
}

export function guideCard(guide, contacts, onNotice) {
  const card = el("section", "guide-card");
  card.setAttribute("aria-label", "办事指南：" + guide.title);
  card.appendChild(el("h2", "guide-title", guide.title));
  const meta = el("p", "guide-meta");
  meta.appendChild(el("span", "", "责任部门：" + guide.department));
  meta.appendChild(el("span", "", "更新于 " + guide.updated));
  card.appendChild(meta);
  if (contacts && contacts.length) card.appendChild(contactList(contacts, true));
  const link = el("a", "notice-link", "打印一次性告知单");
  link.href = guide.notice_url;  // same origin; the session cookie authorises it
  link.addEventListener("click", (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;  // "open in a new tab" still works
    event.preventDefault();
    onNotice(link.href, link);
  });
  card.appendChild(link);
  return card;
}

// A complaint about a matter goes first to whoever supervises it (the reply's "投诉监督" line, the structured reply's
// `supervision`): on the card too, before the windows complained about, with a tap-to-call number. Its number is the
// department's official line, not a citizen's: shown whole. Most guides' line is the hotline itself, which passes it on.
export function addSupervision(card, supervision, hotline) {
  const note = el("div", "contact supervision");
  note.appendChild(el("div", "unit", "投诉监督：" + supervision.department));
  if (supervision.phone) note.appendChild(phoneLink(supervision.department, supervision.phone));
  if (supervision.phone && supervision.phone === hotline) note.appendChild(el("div", "detail", "经政务服务便民热线转达"));
  card.insertBefore(note, card.querySelector(".contacts, .notice-link"));  // none: at the end
}

// The people to call after a handoff, or the offices a user asked for by name (with their address and hours).
export function contactsCard(contacts, { title, details = false, kind = "" } = {}) {
  const card = el("section", "guide-card " + kind);
  card.setAttribute("aria-label", title);
  card.appendChild(el("h2", "guide-title", title));
  card.appendChild(contactList(contacts, details));
  return card;
}

const GROUP_NAMES = { clarify: "选择事项", confirm: "确认事项", not_found: "相近事项", ask_item: "选择事项" };
// A group holding only 转人工 chooses no matter, whatever the reply's kind: nothing close was found, the matter
// was removed, the question is not ours (all three are not_found replies) or a comment was saved.
const HANDOFF_GROUP = "联系工作人员";

// The reply's buttons as named groups: the ratings of this answer on their own ("评价这条回答"), the
// others named by what they choose. One choice per group, like a paper form: a used group is spent, except for
// 转人工 beside matters to pick, which a pick leaves usable.
// `handoff`: the 转人工 payload (the page's data-handoff, protocol.REQUEST_HUMAN); `ratingPayloads`: the 好评 / 差评
// payloads (data-ratings, protocol.FEEDBACK_GOOD and FEEDBACK_BAD), alone or with the answer they name (protocol.rating_payload).
export function choiceGroups(buttons, kind, onChoose, handoff, ratingPayloads) {
  const isRating = (b) => ratingPayloads.some((p) => b.payload === p || String(b.payload).startsWith(p + "{"));
  const ratings = buttons.filter(isRating);
  const others = buttons.filter((b) => !isRating(b));
  const groups = [];
  const onlyHandoff = Boolean(handoff) && others.length > 0 && others.every((b) => b.payload === handoff);
  if (others.length) groups.push(group(others, onlyHandoff ? HANDOFF_GROUP : GROUP_NAMES[kind] || "可选操作", false, onChoose, handoff));
  if (ratings.length) groups.push(group(ratings, "评价这条回答", true, onChoose, handoff));
  return groups;
}

function group(buttons, label, feedback, onChoose, handoff) {
  const node = el("div", "choices");
  node.setAttribute("role", "group");
  node.setAttribute("aria-label", label);
  const nodes = buttons.map((b) => el("button", feedback ? "choice feedback" : "choice", b.title));
  buttons.forEach((b, i) => {
    const button = nodes[i];
    button.type = "button";
    button.addEventListener("click", () => {
      if (!onChoose(b)) return;  // busy: nothing was sent
      nodes.forEach((other, j) => {
        // Picking a matter spends the matters, not 转人工 beside them: the pick may not be what the citizen
        // needed, and asking for a person later must stay as easy as it was.
        if (handoff && b.payload !== handoff && buttons[j].payload === handoff) return;
        other.disabled = true;
        other.classList.add("used");
      });
      button.classList.add("chosen");
    });
    node.appendChild(button);
  });
  return node;
}
