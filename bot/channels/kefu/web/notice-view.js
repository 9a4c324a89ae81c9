// The 一次性告知单 in an overlay of the chat page, with 返回对话: the conversation stays exactly as it
// was (its buttons, the assistant's context, a clerk's replies still arriving), which a new tab or a
// page navigation would lose on a kiosk with no tabs. The notice page may be framed by our own pages
// only (CSP frame-ancestors 'self'); its own 返回 asks us to close (notice.js, postMessage).
import { el } from "./view.js";

let overlay = null;
let returnTo = null;

export function closeNotice() {
  if (!overlay) return;
  overlay.remove();
  overlay = null;
  document.querySelector(".app").inert = false;
  if (returnTo && document.contains(returnTo)) returnTo.focus();
  returnTo = null;
}

// `onActivity`: touches inside the notice count for the kiosk's idle timer like touches on the chat.
export function openNotice(url, opener, onActivity) {
  closeNotice();
  returnTo = opener;
  overlay = el("div", "notice-overlay");
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-modal", "true");
  overlay.setAttribute("aria-label", "一次性告知单");
  const bar = el("div", "notice-bar");
  const back = el("button", "notice-back", "← 返回对话");
  back.type = "button";
  back.id = "notice-back";
  back.addEventListener("click", closeNotice);
  bar.appendChild(back);
  bar.appendChild(el("span", "notice-bar-title", "一次性告知单（可打印）"));
  const frame = el("iframe", "notice-frame");
  frame.title = "一次性告知单";
  frame.src = url;
  frame.addEventListener("load", () => {
    const inner = frame.contentDocument;
    if (!inner) return;
    ["pointerdown", "keydown", "wheel", "touchstart"].forEach((name) => inner.addEventListener(name, onActivity, { passive: true }));
    inner.addEventListener("keydown", (event) => { if (event.key === "Escape") closeNotice(); });
  });
  overlay.appendChild(bar);
  overlay.appendChild(frame);
  document.querySelector(".app").inert = true;  // a dialog: the chat behind is out of reach until 返回
  document.body.appendChild(overlay);
  back.focus();
}

document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeNotice(); });
window.addEventListener("message", (event) => {
  if (event.origin === location.origin && event.data && event.data.kefu === "close-notice") closeNotice();
});
