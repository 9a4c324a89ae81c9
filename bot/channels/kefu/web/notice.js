// 一次性告知单: the print and 返回 buttons, and the citizen's font size (a separate file: the page's
// CSP allows no inline script).
"use strict";
(function () {
  const framed = window.parent !== window;
  // Inside the chat page's overlay the overlay has its own 返回 bar; this page's is hidden.
  if (framed) document.documentElement.classList.add("framed");
  // The A−/A+ choice of the chat page (fontsize.js; same origin, same localStorage key).
  const scale = Number(localStorage.getItem("kefu-font-scale"));
  if (scale > 0) document.documentElement.style.setProperty("--font-scale", String(scale));
  const print = document.getElementById("print");
  if (print) print.addEventListener("click", () => window.print());
  const back = document.getElementById("back");
  if (back) {
    back.addEventListener("click", () => {
      if (framed) {
        window.parent.postMessage({ kefu: "close-notice" }, location.origin);
      } else if (history.length > 1) {
        history.back();
      } else {
        // A tab of its own (opened from a link): close it; a browser that refuses goes to the chat page.
        window.close();
        setTimeout(() => { location.href = "/"; }, 300);
      }
    });
  }
})();
