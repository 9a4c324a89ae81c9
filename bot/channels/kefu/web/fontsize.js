// The A−/A+ font-size control: a scale of the root font size (base.css --font-scale), remembered in
// localStorage so the page (and the notice, notice.js) keeps it after a reload.

const KEY = "kefu-font-scale";
const STEPS = [0.85, 1, 1.15, 1.3, 1.5, 1.75];
const DEFAULT = 1;

function stored() {
  const value = Number(localStorage.getItem(KEY));
  return STEPS.includes(value) ? value : DEFAULT;
}

// Returns {reset, changed}: a shared hall kiosk goes back to the default size for the next citizen
// (app.js, at a new conversation), forgetting the stored one too, or a reload would bring it back.
export function setupFontSize(smaller, larger) {
  let scale = stored();
  const apply = () => {
    document.documentElement.style.setProperty("--font-scale", String(scale));
    smaller.disabled = scale === STEPS[0];
    larger.disabled = scale === STEPS[STEPS.length - 1];
    const label = "当前字号 " + Math.round(scale * 100) + "%";
    smaller.title = larger.title = label;
  };
  const step = (by) => {
    scale = STEPS[Math.min(STEPS.length - 1, Math.max(0, STEPS.indexOf(scale) + by))];
    try { localStorage.setItem(KEY, String(scale)); } catch (ignored) { /* storage off: this page only */ }
    apply();
  };
  smaller.addEventListener("click", () => step(-1));
  larger.addEventListener("click", () => step(1));
  apply();
  return {
    changed: () => scale !== DEFAULT,
    reset: () => {
      scale = DEFAULT;
      try { localStorage.removeItem(KEY); } catch (ignored) { /* storage off: nothing kept */ }
      apply();
    },
  };
}
