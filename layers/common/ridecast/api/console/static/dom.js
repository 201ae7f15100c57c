// Building the page from data with DOM calls only: text always goes in as text (a driver's name or a ride's
// address can never become markup), and nothing needs an inline handler or style.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

/** Replace a container's children, keeping focus where it was when the same control is rebuilt. */
export function replace(container, ...children) {
  const focused = document.activeElement;
  const focusKey = focused && container.contains(focused) ? focused.dataset.focusKey : undefined;
  container.replaceChildren(...children.flat().filter(Boolean));
  if (focusKey) container.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
}

const signatures = new WeakMap();

/** Rebuild a container from `data` only when it changed since the last time (or the language did): a
 * refresh every 2 s then leaves the page alone, so focus, selection and screen readers are not disturbed. */
export function render(container, data, build) {
  const signature = JSON.stringify([document.documentElement.lang, data]);
  if (signatures.get(container) === signature) return false;
  signatures.set(container, signature);
  replace(container, build());
  return true;
}

export function badge(kind, value, label) {
  return el("span", { class: `badge ${kind}-${value}`, dataset: { status: value } }, label);
}

/** Show a short outcome in a live region (screen readers announce it). */
export function notify(region, message, kind = "ok") {
  region.textContent = message;
  region.dataset.kind = kind;
}
