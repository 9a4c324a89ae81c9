// 一次性告知单: the print button (a separate file: the page's CSP allows no inline script).
"use strict";
document.getElementById("print").addEventListener("click", () => window.print());
